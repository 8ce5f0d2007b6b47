"""iOS simulator backend: the `xcrun simctl` adapter (macOS workers with Xcode)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from device_farm.backends.base import BackendError, DeviceDidNotBoot, Health, locale_caps, option
from device_farm.commands import CommandRunner
from device_farm.profiles import DeviceProfile

BASE_WDA_PORT = 8100


@dataclass(frozen=True)
class Simulator:
    udid: str
    name: str
    runtime: str
    state: str
    available: bool


def parse_simctl_devices(output: str) -> list[Simulator]:
    """`xcrun simctl list devices -j` -> simulators; the JSON is keyed by runtime identifier."""
    try:
        data = json.loads(output)
        runtimes = data["devices"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackendError(f"unexpected `xcrun simctl list devices -j` output: {exc}") from exc
    return [
        Simulator(
            udid=d["udid"],
            name=d["name"],
            runtime=runtime,
            state=d.get("state", "Unknown"),
            available=bool(d.get("isAvailable", True)),
        )
        for runtime, devices in runtimes.items()
        for d in devices
    ]


def platform_version(runtime: str) -> str:
    """`com.apple.CoreSimulator.SimRuntime.iOS-18-0` -> `18.0`."""
    match = re.search(r"iOS-(\d+)-(\d+)(?:-(\d+))?$", runtime)
    if not match:
        raise BackendError(f"cannot read an iOS version from runtime {runtime!r}")
    return ".".join(g for g in match.groups() if g is not None)


class IosSimulatorBackend:
    appium_driver = "xcuitest"

    def __init__(self, profile: DeviceProfile, slot: int, runner: CommandRunner) -> None:
        self.profile = profile
        self.slot = slot
        self._runner = runner
        self.device_type = option(profile, "device_type", str)
        self.runtime = option(profile, "runtime", str)
        self.name = option(profile, "simulator_name", str, f"instep-{profile.name}-{slot}")
        self.erase = option(profile, "erase", bool, True)
        self.app = option(profile, "app", str, "")
        self.udid: str | None = None

    def simctl(self, *args: str) -> list[str]:
        return ["xcrun", "simctl", *args]

    def _run(self, argv: list[str], timeout: float = 120) -> str:
        out = self._runner.run(argv, timeout=timeout)
        if not out.ok:
            raise BackendError(f"`{' '.join(argv)}` failed: {out.output.strip()[-500:]}")
        return out.output

    def _find(self) -> Simulator | None:
        sims = parse_simctl_devices(self._run(self.simctl("list", "devices", "-j")))
        return next(
            (s for s in sims if s.name == self.name and s.runtime == self.runtime and s.available), None
        )

    def prepare(self) -> None:
        sim = self._find()
        if sim is None:
            udid = (
                self._run(self.simctl("create", self.name, self.device_type, self.runtime))
                .strip()
                .splitlines()
            )
            if not udid:
                raise BackendError(f"`simctl create` printed no UDID for {self.name!r}")
            self.udid = udid[-1].strip()
            return
        self.udid = sim.udid
        if sim.state != "Shutdown":
            self._run(self.simctl("shutdown", sim.udid))
        if self.erase:
            self._run(self.simctl("erase", sim.udid))

    def start(self, *, boot_timeout_s: float) -> None:
        if self.udid is None:
            raise BackendError("prepare() must run before start()")
        self._run(self.simctl("boot", self.udid))
        status = self._runner.run(self.simctl("bootstatus", self.udid, "-b"), timeout=boot_timeout_s)
        if not status.ok:
            raise DeviceDidNotBoot(
                self.profile.name, boot_timeout_s, "timed out in `simctl bootstatus`" if status.timed_out else
                status.output.strip()[-300:]
            )  # fmt: skip

    def health_check(self) -> Health:
        try:
            sim = self._find()
        except BackendError as exc:
            return Health(False, str(exc))
        if sim is None:
            return Health(False, f"simulator {self.name!r} ({self.runtime}) is not listed by simctl")
        if sim.state != "Booted":
            return Health(False, f"simulator {self.name!r} is {sim.state}, not Booted")
        return Health(True)

    def capabilities(self) -> dict[str, Any]:
        caps: dict[str, Any] = {
            "platformName": "iOS",
            "appium:automationName": "XCUITest",
            "appium:udid": self.udid,
            "appium:deviceName": self.name,
            "appium:platformVersion": platform_version(self.runtime),
            "appium:wdaLocalPort": BASE_WDA_PORT + self.slot,
            **locale_caps(self.profile.locale),
        }
        if self.app:
            caps["appium:app"] = self.app
        return caps

    def remote_url(self) -> str | None:
        return None

    def stop(self) -> None:
        if self.udid is not None:
            self._runner.run(self.simctl("shutdown", self.udid), timeout=120)
