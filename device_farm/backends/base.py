"""The interface every device backend implements, and the errors they raise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from device_farm.profiles import DeviceProfile


class BackendError(Exception):
    """A backend could not prepare, start or stop its device; the message says what to do."""


class DeviceDidNotBoot(BackendError):
    def __init__(self, profile: str, seconds: float, detail: str = "") -> None:
        super().__init__(
            f"device did not boot in {seconds:.0f} s ({profile})" + (f": {detail}" if detail else "")
        )
        self.profile = profile
        self.seconds = seconds


@dataclass(frozen=True)
class Health:
    ok: bool
    reason: str = ""


class Backend(Protocol):
    profile: DeviceProfile
    # The Appium driver a local server needs ("chromium", "uiautomator2", "xcuitest").
    appium_driver: str

    def prepare(self) -> None:
        """Make the device exist (create the AVD or simulator, check binaries); no booting yet."""
        ...

    def start(self, *, boot_timeout_s: float) -> None:
        """Boot the device and return when it is usable; raises DeviceDidNotBoot at the deadline."""
        ...

    def health_check(self) -> Health: ...

    def capabilities(self) -> dict[str, Any]:
        """W3C capabilities (with `appium:` prefixes) for a session on this device."""
        ...

    def remote_url(self) -> str | None:
        """An existing Appium endpoint to use instead of starting a local server (grids)."""
        ...

    def stop(self) -> None: ...


def option(profile: DeviceProfile, key: str, kind: type, default: Any = None) -> Any:
    """A typed backend option from the profile, with an error naming the profile and key."""
    value = profile.options.get(key, default)
    if value is None:
        raise BackendError(f"device profile {profile.name!r} ({profile.backend}) needs `{key}`")
    if kind is float and isinstance(value, int):
        value = float(value)
    if not isinstance(value, kind):
        raise BackendError(
            f"device profile {profile.name!r}: `{key}` must be a {kind.__name__}, got {value!r}"
        )
    return value


def locale_caps(locale: str) -> dict[str, str]:
    language, _, region = locale.replace("_", "-").partition("-")
    caps = {"appium:language": language}
    if region:
        caps["appium:locale"] = region
    return caps
