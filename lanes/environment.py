"""The environment fastlane runs in: whatever the job gives it, plus what makes fastlane
unattended, quiet, UTF-8, and tells it where to write its report and artifacts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

UTF8_LOCALE = "C.UTF-8"
UNATTENDED = {
    "CI": "true",
    "FASTLANE_SKIP_UPDATE_CHECK": "1",
    "FASTLANE_OPT_OUT_USAGE": "1",
    "FASTLANE_HIDE_TIMESTAMP": "1",
    "FASTLANE_DISABLE_COLORS": "1",
    "FASTLANE_DISABLE_ANIMATION": "1",
    # On a crash fastlane would otherwise search GitHub issues over the network.
    "FASTLANE_HIDE_GITHUB_ISSUES": "1",
    # Otherwise every lane rewrites fastlane/README.md in the workspace.
    "FASTLANE_SKIP_DOCS": "1",
    "LC_ALL": UTF8_LOCALE,
    "LANG": UTF8_LOCALE,
}
ARTIFACTS_VAR = "INSTEP_ARTIFACTS_DIR"
# fastlane 2.x treats FL_REPORT_PATH as the directory that receives report.xml.
REPORT_VAR = "FL_REPORT_PATH"


def lane_env(
    base: Mapping[str, str], *, artifacts_dir: Path | None = None, report_dir: Path | None = None
) -> dict[str, str]:
    """`base` with the unattended settings on top; those win over anything in `base`."""
    env = dict(base)
    env.update(UNATTENDED)
    if artifacts_dir is not None:
        env[ARTIFACTS_VAR] = str(artifacts_dir)
    if report_dir is not None:
        env[REPORT_VAR] = str(report_dir)
    return env
