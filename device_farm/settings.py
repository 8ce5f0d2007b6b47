"""The device farm's own settings: only the `INSTEP_*` variables it needs, read without creating
anything. The CLI builds them from the environment; the pipeline's worker builds them from the
server's settings and passes them in, so this leaf package imports nothing above it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class FarmSettingsError(Exception):
    """A device-farm setting is unusable; the message names the variable and what to do."""


@dataclass(frozen=True)
class FarmSettings:
    # Where devices.yml is looked up (INSTEP_HOME, default ./.instep); only ever read.
    home: Path
    # Where the runner writes what it keeps between runs (durations) and, by default, artifacts:
    # INSTEP_HOME when set, else the user's state directory, never the current directory.
    state_dir: Path
    appium_home: Path
    # Leases are shared through Redis when set (distributed mode), in-process otherwise.
    redis_url: str | None
    artifacts_dir: Path

    @property
    def devices_file(self) -> Path:
        return self.home / "devices.yml"

    @property
    def durations_dir(self) -> Path:
        return self.state_dir / "durations"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FarmSettings:
        """Read INSTEP_HOME, INSTEP_APPIUM_HOME, INSTEP_REDIS_URL and INSTEP_ARTIFACTS (plus
        XDG_STATE_HOME/HOME for the default state directory). Creates no file or directory."""
        env = os.environ if environ is None else environ
        explicit_home = env.get("INSTEP_HOME") or ""
        home = Path(explicit_home or "./.instep").expanduser().resolve()
        if explicit_home:
            state_dir = home
        else:
            base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
            state_dir = Path(base).expanduser().resolve() / "instep"
        artifacts = env.get("INSTEP_ARTIFACTS") or ""
        # An object-store URL is the server's business; a suite run writes local files.
        artifacts_dir = (
            Path(artifacts).expanduser().resolve()
            if artifacts and "://" not in artifacts
            else state_dir / "artifacts"
        )
        appium_home = Path(env.get("INSTEP_APPIUM_HOME") or home / "appium").expanduser()
        redis_url = env.get("INSTEP_REDIS_URL") or None
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise FarmSettingsError(
                f"INSTEP_REDIS_URL={redis_url!r} is not a Redis URL; use redis://HOST:PORT/DB or unset it "
                "to keep device leases in this process"
            )
        return cls(
            home=home,
            state_dir=state_dir,
            appium_home=appium_home,
            redis_url=redis_url,
            artifacts_dir=artifacts_dir,
        )
