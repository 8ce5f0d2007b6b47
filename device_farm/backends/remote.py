"""A remote Appium-compatible grid (self-hosted or a cloud vendor): a URL plus capabilities."""

from __future__ import annotations

from typing import Any

import httpx

from device_farm.backends.base import Health, option
from device_farm.profiles import DeviceProfile


class RemoteBackend:
    appium_driver = ""

    def __init__(self, profile: DeviceProfile, slot: int, http: httpx.Client | None = None) -> None:
        self.profile = profile
        self.slot = slot
        self.url = option(profile, "url", str).rstrip("/")
        self.caps = dict(option(profile, "capabilities", dict, {}))
        self._http = http or httpx.Client(timeout=10)

    def prepare(self) -> None:
        return None

    def start(self, *, boot_timeout_s: float) -> None:
        return None

    def health_check(self) -> Health:
        try:
            response = self._http.get(f"{self.url}/status")
        except httpx.HTTPError as exc:
            return Health(False, f"{self.url}/status is unreachable: {exc}")
        if response.status_code != 200:
            return Health(False, f"{self.url}/status answered HTTP {response.status_code}")
        return Health(True)

    def capabilities(self) -> dict[str, Any]:
        return dict(self.caps)

    def remote_url(self) -> str | None:
        return self.url

    def stop(self) -> None:
        return None
