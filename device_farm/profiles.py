"""Device profiles (what a suite runs on) and the inventory a worker offers: the built-in
Chromium mobile-emulation profiles plus the devices listed in a YAML file.

    # INSTEP_HOME/devices.yml
    devices:
      - name: pixel-8-emulator
        backend: android-emulator
        avd: Pixel_8_API_35
        system_image: "system-images;android-35;google_apis;x86_64"
      - name: galaxy-fold
        backend: chromium
        width: 344
        height: 882
        pixel_ratio: 3
        user_agent: "Mozilla/5.0 (Linux; Android 14; SM-F946B) ..."
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BACKENDS = ("chromium", "android-emulator", "ios-simulator", "remote", "aws-device-farm")
# A Chromium profile is a fresh headless browser per session: several can run side by side.
CHROMIUM_SLOTS = 4


class ProfileError(Exception):
    """A device profile or inventory file is invalid; the message names the file and entry."""


class UnknownProfile(ProfileError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(
            f"unknown device profile {name!r}; known profiles: {', '.join(sorted(known))} "
            "(add it to devices.yml or pass --config)"
        )
        self.name = name


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    backend: str
    title: str = ""
    slots: int = 1
    locale: str = "en-US"
    # Backend-specific settings, validated by the backend (see device_farm.backends).
    options: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return self.title or self.name


IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
PIXEL_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
IPAD_UA = (
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)

BUILTIN_PROFILES: tuple[DeviceProfile, ...] = (
    DeviceProfile(
        "iphone-15",
        "chromium",
        "Chromium with iPhone 15 emulation",
        CHROMIUM_SLOTS,
        options={"width": 393, "height": 852, "pixel_ratio": 3.0, "user_agent": IPHONE_UA, "touch": True},
    ),
    DeviceProfile(
        "pixel-8",
        "chromium",
        "Chromium with Pixel 8 emulation",
        CHROMIUM_SLOTS,
        options={"width": 412, "height": 915, "pixel_ratio": 2.625, "user_agent": PIXEL_UA, "touch": True},
    ),
    DeviceProfile(
        "ipad",
        "chromium",
        "Chromium with iPad emulation",
        CHROMIUM_SLOTS,
        options={"width": 820, "height": 1180, "pixel_ratio": 2.0, "user_agent": IPAD_UA, "touch": True},
    ),
)

_COMMON_KEYS = {"name", "backend", "title", "slots", "locale"}


def profile_from_mapping(entry: Mapping[str, Any], where: str) -> DeviceProfile:
    """Build a profile from one inventory (or instep.yml) entry; `where` is used in error messages."""
    if not isinstance(entry, Mapping):
        raise ProfileError(f"{where}: a device must be a mapping with at least `name` and `backend`")
    name, backend = entry.get("name"), entry.get("backend")
    if not isinstance(name, str) or not name:
        raise ProfileError(f"{where}: `name` is missing")
    if backend not in BACKENDS:
        raise ProfileError(
            f"{where} ({name}): `backend` must be one of {', '.join(BACKENDS)}, got {backend!r}"
        )
    slots = entry.get("slots", CHROMIUM_SLOTS if backend == "chromium" else 1)
    if not isinstance(slots, int) or slots < 1:
        raise ProfileError(f"{where} ({name}): `slots` must be a positive integer, got {slots!r}")
    return DeviceProfile(
        name=name,
        backend=str(backend),
        title=str(entry.get("title", "")),
        slots=slots,
        locale=str(entry.get("locale", "en-US")),
        options={k: v for k, v in entry.items() if k not in _COMMON_KEYS},
    )


@dataclass(frozen=True)
class Inventory:
    profiles: Mapping[str, DeviceProfile]

    def get(self, name: str) -> DeviceProfile:
        try:
            return self.profiles[name]
        except KeyError:
            raise UnknownProfile(name, self.profiles) from None

    def unknown(self, names: Iterable[str]) -> list[str]:
        """The names that are not in the inventory, for validating `devices:` in instep.yml."""
        return [n for n in names if n not in self.profiles]


def parse_inventory(text: str, source: str) -> Inventory:
    """Built-in profiles plus the `devices:` list in `text` (YAML); later entries override."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("devices", []), list):
        raise ProfileError(f"{source}: expected a mapping with a `devices:` list")
    profiles = {p.name: p for p in BUILTIN_PROFILES}
    for i, entry in enumerate(data.get("devices", [])):
        profile = profile_from_mapping(entry, f"{source}: devices[{i}]")
        profiles[profile.name] = profile
    return Inventory(profiles)


def load_inventory(path: Path | None) -> Inventory:
    """The inventory from `path` (when given and present) plus the built-in profiles."""
    if path is None or not path.exists():
        return Inventory({p.name: p for p in BUILTIN_PROFILES})
    return parse_inventory(path.read_text(), str(path))
