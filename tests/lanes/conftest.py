"""Fixtures for the lanes tests: the real fastlane (skipped locally when it is not installed,
a failure on CI) and its unattended environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lanes.errors import FastlaneNotFound
from lanes.locate import FastlaneCommand, fastlane_setting, locate_fastlane
from tests.conftest import require_service


@pytest.fixture(scope="session")
def fastlane(tmp_path_factory: pytest.TempPathFactory) -> FastlaneCommand:
    try:
        return locate_fastlane(tmp_path_factory.mktemp("no-gemfile"), configured=fastlane_setting())
    except FastlaneNotFound as exc:
        require_service("fastlane", False, f"{exc} (run `make tools`)")
        raise


@pytest.fixture(scope="session")
def base_env() -> dict[str, str]:
    """The worker-like environment a job hands to a lane."""
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "USER")}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
