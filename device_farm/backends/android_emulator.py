"""Android emulator backend: the adb / emulator / avdmanager adapter.

Every command line is built here; output parsing is pure and tested against recorded output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from device_farm.backends.base import BackendError, DeviceDidNotBoot, Health, locale_caps, option
from device_farm.clock import Clock, PollTimeout, poll
from device_farm.commands import Background, CommandRunner
from device_farm.profiles import DeviceProfile

BASE_PORT = 5554
BASE_SYSTEM_PORT = 8200


def parse_avd_names(output: str) -> list[str]:
    """`avdmanager list avd -c` prints one AVD name per line (after any warnings)."""
    return [
        line.strip()
        for line in output.splitlines()
        if line.strip() and not line.startswith(("Warning:", "Error:", "INFO", "Loading"))
    ]


def parse_adb_devices(output: str) -> dict[str, str]:
    """`adb devices` -> {serial: state}; states are `device`, `offline`, `unauthorized`, ..."""
    devices: dict[str, str] = {}
    for line in output.splitlines():
        if not line.strip() or line.startswith(("List of devices", "*")):
            continue
        parts = line.split()
        if len(parts) >= 2:
            devices[parts[0]] = parts[1]
    return devices


def boot_completed(output: str) -> bool:
    return output.strip().splitlines()[-1:] == ["1"] if output.strip() else False


class AndroidEmulatorBackend:
    appium_driver = "uiautomator2"

    def __init__(
        self, profile: DeviceProfile, slot: int, runner: CommandRunner, clock: Clock, log_dir: Path
    ) -> None:
        self.profile = profile
        self.slot = slot
        self._runner = runner
        self._clock = clock
        self._log_dir = log_dir
        self.avd = option(profile, "avd", str)
        self.system_image = option(profile, "system_image", str, "")
        self.hardware = option(profile, "device", str, "pixel_8")
        self.port = option(profile, "port", int, BASE_PORT) + 2 * slot
        self.app = option(profile, "app", str, "")
        self._emulator: Background | None = None

    @property
    def serial(self) -> str:
        return f"emulator-{self.port}"

    def create_avd_command(self) -> list[str]:
        return [
            "avdmanager", "create", "avd",
            "--name", self.avd,
            "--package", self.system_image,
            "--device", self.hardware,
        ]  # fmt: skip

    def emulator_command(self) -> list[str]:
        return [
            "emulator",
            "-avd",
            self.avd,
            "-no-window",
            "-no-snapshot",
            "-read-only",
            "-port",
            str(self.port),
        ]

    def adb(self, *args: str) -> list[str]:
        return ["adb", "-s", self.serial, *args]

    def prepare(self) -> None:
        listed = self._runner.run(["avdmanager", "list", "avd", "-c"], timeout=60)
        if not listed.ok:
            raise BackendError(f"`avdmanager list avd -c` failed: {listed.output.strip()[-500:]}")
        if self.avd in parse_avd_names(listed.output):
            return
        if not self.system_image:
            raise BackendError(
                f"AVD {self.avd!r} does not exist and profile {self.profile.name!r} has no `system_image` "
                'to create it from (e.g. "system-images;android-35;google_apis;x86_64")'
            )
        created = self._runner.run(self.create_avd_command(), timeout=300)
        if not created.ok:
            raise BackendError(f"creating AVD {self.avd!r} failed: {created.output.strip()[-500:]}")

    def start(self, *, boot_timeout_s: float) -> None:
        started = self._clock.monotonic()
        self._emulator = self._runner.spawn(
            self.emulator_command(), log_path=self._log_dir / f"emulator-{self.port}.log"
        )
        waited = self._runner.run(self.adb("wait-for-device"), timeout=boot_timeout_s)
        if not waited.ok:
            raise DeviceDidNotBoot(self.profile.name, boot_timeout_s, f"{self.serial} never appeared in adb")

        def booted() -> bool | None:
            code = self._emulator.exit_code() if self._emulator else None
            if code is not None:
                raise BackendError(f"the emulator exited with code {code}; see emulator-{self.port}.log")
            out = self._runner.run(self.adb("shell", "getprop", "sys.boot_completed"), timeout=30)
            return True if out.ok and boot_completed(out.output) else None

        remaining = boot_timeout_s - (self._clock.monotonic() - started)
        try:
            poll(booted, timeout=max(remaining, 0.0), interval=2.0, clock=self._clock)
        except PollTimeout:
            raise DeviceDidNotBoot(
                self.profile.name, boot_timeout_s, "sys.boot_completed never became 1"
            ) from None

    def health_check(self) -> Health:
        out = self._runner.run(["adb", "devices"], timeout=30)
        if not out.ok:
            return Health(False, f"`adb devices` failed: {out.output.strip()[-300:]}")
        state = parse_adb_devices(out.output).get(self.serial)
        if state != "device":
            return Health(False, f"{self.serial} is {state or 'not listed'} in `adb devices`")
        return Health(True)

    def capabilities(self) -> dict[str, Any]:
        caps: dict[str, Any] = {
            "platformName": "Android",
            "appium:automationName": "UiAutomator2",
            "appium:udid": self.serial,
            "appium:deviceName": self.avd,
            "appium:systemPort": BASE_SYSTEM_PORT + self.slot,
            **locale_caps(self.profile.locale),
        }
        if self.app:
            caps["appium:app"] = self.app
        return caps

    def remote_url(self) -> str | None:
        return None

    def stop(self) -> None:
        if self._emulator is None:
            return
        self._runner.run(self.adb("emu", "kill"), timeout=30)
        self._emulator.stop(grace_s=10)
        self._emulator = None
