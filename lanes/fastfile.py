"""Where fastlane looks for the Fastfile of a workspace (mirrors FastlaneCore::FastlaneFolder)."""

from __future__ import annotations

from pathlib import Path

from lanes.errors import FastfileNotFound

CANDIDATES = ("fastlane/Fastfile", ".fastlane/Fastfile")


def find_fastfile(workspace: Path | str) -> Path:
    """The Fastfile fastlane will load when started in `workspace`; raises `FastfileNotFound`
    naming every path looked at."""
    workspace = Path(workspace)
    looked_at = [workspace / candidate for candidate in CANDIDATES]
    for path in looked_at:
        if path.is_file():
            return path
    raise FastfileNotFound(workspace, looked_at)
