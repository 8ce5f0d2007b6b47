"""The Appium 3 server adapter: one server per leased device on a free 127.0.0.1 port, ready when
`/status` answers, stopped by killing its process group; its log is kept as an artifact."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from device_farm.clock import Clock, PollTimeout, SystemClock, poll
from device_farm.commands import Background, CommandRunner

DRIVER_PACKAGES = {
    "chromium": "appium-chromium-driver",
    "uiautomator2": "appium-uiautomator2-driver",
    "xcuitest": "appium-xcuitest-driver",
}


class AppiumError(Exception):
    """Appium is missing, did not start or stopped answering; the message says where its log is."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_appium(appium_home: Path, explicit: str | None = None) -> str:
    """The `appium` executable: `explicit`, then the one installed next to INSTEP_APPIUM_HOME by
    scripts/install-appium.sh, then PATH."""
    candidates = [explicit] if explicit else []
    candidates.append(str(appium_home.parent / "node_modules" / ".bin" / "appium"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which("appium")
    if on_path:
        return on_path
    raise AppiumError(
        "the `appium` command was not found (looked in "
        f"{appium_home.parent / 'node_modules/.bin'} and on PATH); run scripts/install-appium.sh "
        "or `npm install -g appium@3`"
    )


def server_command(appium: str, port: int, log_file: Path) -> list[str]:
    return [
        appium, "server",
        "--address", "127.0.0.1",
        "--port", str(port),
        "--log", str(log_file),
        "--log-no-colors",
        "--log-timestamp",
    ]  # fmt: skip


def driver_install_command(appium: str, driver: str) -> list[str]:
    """`appium driver install --source=npm PACKAGE` for one of DRIVER_PACKAGES."""
    if driver not in DRIVER_PACKAGES:
        raise AppiumError(f"unknown Appium driver {driver!r}; choose one of {', '.join(DRIVER_PACKAGES)}")
    return [appium, "driver", "install", "--source=npm", DRIVER_PACKAGES[driver]]


@dataclass(frozen=True)
class AppiumLauncher:
    """Where Appium lives; `start` gives one running server."""

    appium: str
    appium_home: Path
    start_timeout_s: float = 60.0

    def start(self, runner: CommandRunner, log_dir: Path, *, clock: Clock | None = None) -> AppiumServer:
        port = free_port()
        log_file = log_dir / "appium.log"
        process = runner.spawn(
            server_command(self.appium, port, log_file),
            log_path=log_dir / "appium.console.log",
            env={"APPIUM_HOME": str(self.appium_home)},
        )
        server = AppiumServer(process, port, log_file, log_dir / "appium.console.log")
        try:
            server.wait_ready(self.start_timeout_s, clock or SystemClock())
        except AppiumError:
            server.stop()
            raise
        return server


class AppiumServer:
    def __init__(self, process: Background, port: int, log_file: Path, console_log: Path) -> None:
        self.process = process
        self.port = port
        self.log_file = log_file
        self.console_log = console_log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> Sequence[Path]:
        return [p for p in (self.log_file, self.console_log) if p.exists()]

    def exit_code(self) -> int | None:
        return self.process.exit_code()

    def ready(self, http: httpx.Client) -> bool:
        try:
            response = http.get(f"{self.url}/status")
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json().get("value", {}).get("ready", True))

    def wait_ready(self, timeout_s: float, clock: Clock) -> None:
        def probe() -> bool | None:
            code = self.exit_code()
            if code is not None:
                raise AppiumError(
                    f"Appium exited with code {code} before it was ready; see {self.console_log} and {self.log_file}"
                )
            return True if self.ready(http) else None

        with httpx.Client(timeout=2) as http:
            try:
                poll(probe, timeout=timeout_s, interval=0.1, clock=clock)
            except PollTimeout:
                raise AppiumError(
                    f"Appium on port {self.port} did not answer /status within {timeout_s:.0f} s; see {self.log_file}"
                ) from None

    def stop(self) -> None:
        self.process.stop(grace_s=5)
