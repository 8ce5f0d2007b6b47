"""Chromium with mobile emulation, driven by Appium's Chromium driver and Debian's chromedriver.

Nothing is downloaded at run time: the capabilities pin `/usr/bin/chromedriver` and turn the
driver's autodownload off."""

from __future__ import annotations

import os
from typing import Any

from device_farm.appium_server import free_port
from device_farm.backends.base import BackendError, Health, option
from device_farm.commands import CommandNotFound, CommandRunner
from device_farm.profiles import DeviceProfile

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
INSTALL_HINT = "run scripts/install-chromium.sh (apt-get install chromium chromium-driver)"


class ChromiumBackend:
    appium_driver = "chromium"

    def __init__(self, profile: DeviceProfile, slot: int, runner: CommandRunner) -> None:
        self.profile = profile
        self.slot = slot
        self._runner = runner
        self.width = option(profile, "width", int)
        self.height = option(profile, "height", int)
        self.pixel_ratio = option(profile, "pixel_ratio", float, 1.0)
        self.user_agent = option(profile, "user_agent", str, "")
        self.touch = option(profile, "touch", bool, True)
        self.chromium = option(profile, "chromium", str, CHROMIUM)
        self.chromedriver = option(profile, "chromedriver", str, CHROMEDRIVER)
        # chromedriver listens on 9515 by default: parallel shards need a port each.
        self.chromedriver_port = free_port()

    def _missing(self) -> list[str]:
        return [p for p in (self.chromium, self.chromedriver) if not os.access(p, os.X_OK)]

    def prepare(self) -> None:
        missing = self._missing()
        if missing:
            raise BackendError(f"{', '.join(missing)} not found; {INSTALL_HINT}")

    def start(self, *, boot_timeout_s: float) -> None:
        # Each Appium session launches its own headless browser; nothing to boot ahead of time.
        return None

    def health_check(self) -> Health:
        missing = self._missing()
        if missing:
            return Health(False, f"{', '.join(missing)} not found; {INSTALL_HINT}")
        try:
            out = self._runner.run([self.chromium, "--version"], timeout=30)
        except CommandNotFound as exc:
            return Health(False, str(exc))
        if not out.ok:
            return Health(False, f"`{self.chromium} --version` failed: {out.output.strip()[-300:]}")
        return Health(True)

    def capabilities(self) -> dict[str, Any]:
        metrics: dict[str, Any] = {
            "width": self.width,
            "height": self.height,
            "pixelRatio": self.pixel_ratio,
            "touch": self.touch,
        }
        emulation: dict[str, Any] = {"deviceMetrics": metrics}
        if self.user_agent:
            emulation["userAgent"] = self.user_agent
        language = self.profile.locale
        return {
            "platformName": "linux",
            "browserName": "chrome",
            "appium:automationName": "Chromium",
            "appium:executable": self.chromedriver,
            "appium:chromedriverPort": self.chromedriver_port,
            "appium:autodownloadEnabled": False,
            "appium:disableBuildCheck": True,
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [*CHROMIUM_ARGS, f"--lang={language}", f"--window-size={self.width},{self.height}"],
                "mobileEmulation": emulation,
            },
        }

    def remote_url(self) -> str | None:
        return None

    def stop(self) -> None:
        return None
