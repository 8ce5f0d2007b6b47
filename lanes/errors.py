"""Errors of the lanes package. Each message says what was wrong, where, and what to do."""

from __future__ import annotations

from pathlib import Path


class LanesError(Exception):
    """Base class: anything in `lanes` that a user must fix before a lane can run."""


class FastlaneNotFound(LanesError):
    """No fastlane executable could be found or the configured one does not exist."""


class FastfileNotFound(LanesError):
    """The workspace has no Fastfile where fastlane looks for one."""

    def __init__(self, workspace: Path, looked_at: list[Path]) -> None:
        self.workspace = workspace
        self.looked_at = looked_at
        places = ", ".join(str(p) for p in looked_at)
        super().__init__(
            f"no Fastfile in {workspace}: looked at {places}. "
            "Run `instep lanes init --platform ios,android` to create a standard one, "
            "or pass --path to the directory that contains fastlane/Fastfile."
        )


class FastfileInvalid(LanesError):
    """fastlane could not load the Fastfile (syntax error, unknown action, ...)."""

    def __init__(self, fastfile: Path, detail: str) -> None:
        self.fastfile = fastfile
        self.detail = detail
        super().__init__(f"fastlane could not load {fastfile}: {detail}. Fix the Fastfile and try again.")


class UnknownLane(LanesError):
    """The requested lane is not defined in the Fastfile."""

    def __init__(self, lane: str, fastfile: Path | None, available: list[str]) -> None:
        self.lane = lane
        self.available = available
        where = f" in {fastfile}" if fastfile else ""
        listed = ", ".join(available) if available else "none"
        super().__init__(f"lane '{lane}' does not exist{where}; lanes that exist: {listed}")


class LaneOptionError(LanesError):
    """A lane option or name cannot be passed to fastlane as given."""


class TemplateError(LanesError):
    """`instep lanes init` was asked for something the templates cannot produce."""
