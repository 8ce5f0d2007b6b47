"""Which files become a lane's artifacts: its artifacts directory plus known outputs (real files)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lanes.artifacts import MARKER, artifact_kind, collect_artifacts


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("App.ipa", "ipa"),
        ("android/app/build/outputs/apk/release/app-release.apk", "apk"),
        ("android/app/build/outputs/bundle/release/app-release.aab", "aab"),
        ("App.app.dSYM.zip", "dsym"),
        ("android/app/build/outputs/mapping/release/mapping.txt", "mapping"),
        ("android/app/build/test-results/testReleaseUnitTest/TEST-com.example.CartTest.xml", "junit"),
        ("fastlane/test_output/report.junit", "junit"),
        ("fastlane/screenshots/en-US/1_home.png", "screenshot"),
        ("android/app/src/main/AndroidManifest.xml", None),
        ("www/logo.png", None),
    ],
)
def test_known_outputs(path: str, kind: str | None) -> None:
    assert artifact_kind(path) == kind


def _write(path: Path, text: str = "x", mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_collects_new_outputs_and_the_artifacts_directory(tmp_path: Path) -> None:
    workspace, artifacts = tmp_path / "ws", tmp_path / "artifacts"
    started = time.time() - 5
    _write(workspace / "android/app/build/outputs/bundle/release/app-release.aab", "aab")
    _write(workspace / "android/app/build/outputs/apk/release/old.apk", mtime=started - 3600)  # earlier run
    _write(workspace / "node_modules/pkg/TEST-ignored.xml")
    _write(workspace / "README.md")
    _write(artifacts / "notes/build-info.txt", "hello")
    found = collect_artifacts(workspace, artifacts, since=started)
    by_path = {a.path.relative_to(artifacts).as_posix(): a for a in found}
    assert set(by_path) == {
        "notes/build-info.txt",
        "workspace/android/app/build/outputs/bundle/release/app-release.aab",
    }
    aab = by_path["workspace/android/app/build/outputs/bundle/release/app-release.aab"]
    assert aab.kind == "aab" and aab.size == 3 and aab.path.read_text() == "aab"
    assert aab.origin == (workspace / "android/app/build/outputs/bundle/release/app-release.aab").resolve()
    assert by_path["notes/build-info.txt"].kind == "file"
    assert (artifacts / MARKER).exists()


def test_an_earlier_lanes_artifacts_directory_inside_the_workspace_is_not_collected(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    first = workspace / "build/instep-lanes/android-test"
    _write(first / "junit.xml")
    collect_artifacts(workspace, first, since=0)
    second = workspace / "build/instep-lanes/android-build"
    found = collect_artifacts(workspace, second, since=0)
    assert found == []
