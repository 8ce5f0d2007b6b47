"""Device backends behind one interface (`Backend`), registered by name."""

from __future__ import annotations

from pathlib import Path

from device_farm.backends.android_emulator import AndroidEmulatorBackend
from device_farm.backends.base import Backend, BackendError, DeviceDidNotBoot, Health
from device_farm.backends.chromium import ChromiumBackend
from device_farm.backends.ios_simulator import IosSimulatorBackend
from device_farm.backends.remote import RemoteBackend
from device_farm.clock import Clock
from device_farm.commands import CommandRunner
from device_farm.profiles import DeviceProfile

__all__ = ["Backend", "BackendError", "DeviceDidNotBoot", "Health", "create_backend"]


def create_backend(
    profile: DeviceProfile, slot: int, *, runner: CommandRunner, clock: Clock, log_dir: Path
) -> Backend:
    """The backend for one leased slot of `profile`. AWS Device Farm runs whole suites remotely:
    the suite runner drives it through `device_farm.backends.aws_device_farm`, with no lease."""
    match profile.backend:
        case "chromium":
            return ChromiumBackend(profile, slot, runner)
        case "android-emulator":
            return AndroidEmulatorBackend(profile, slot, runner, clock, log_dir)
        case "ios-simulator":
            return IosSimulatorBackend(profile, slot, runner)
        case "remote":
            return RemoteBackend(profile, slot)
    raise BackendError(
        f"device profile {profile.name!r} uses backend {profile.backend!r}, which does not run a local "
        "pytest session (AWS Device Farm profiles run the whole suite remotely through the suite runner)"
    )
