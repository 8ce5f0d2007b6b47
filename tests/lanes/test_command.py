"""The exact fastlane command line and environment Instep passes (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanes.command import lane_command, parse_option
from lanes.environment import lane_env
from lanes.errors import LaneOptionError
from lanes.locate import FastlaneCommand

FASTLANE = FastlaneCommand(("/usr/local/bin/fastlane",), "PATH")
BUNDLED = FastlaneCommand(("/usr/bin/bundle", "exec", "fastlane"), "bundler")


def test_platform_lane_and_options_in_order() -> None:
    argv = lane_command(
        FASTLANE, "ios", "beta", {"build_number": 42, "changelog": "Fixes: login", "skip": True}
    )
    assert argv == [
        "/usr/local/bin/fastlane",
        "ios",
        "beta",
        "build_number:42",
        "changelog:Fixes: login",
        "skip:true",
    ]


def test_bundler_prefix_and_lane_without_platform() -> None:
    assert lane_command(BUNDLED, None, "build", {"dry_run": False}) == [
        "/usr/bin/bundle",
        "exec",
        "fastlane",
        "build",
        "dry_run:false",
    ]


@pytest.mark.parametrize(
    ("platform", "lane", "options", "message"),
    [
        ("android", "build", {"bad key": "x"}, "not a valid option name"),
        ("android", "build", {"": "x"}, "not a valid option name"),
        ("android", "--verbose", {}, "lane name '--verbose' is not valid"),
        ("and roid", "build", {}, "platform name 'and roid' is not valid"),
    ],
)
def test_names_fastlane_would_misread_are_refused(
    platform: str, lane: str, options: dict, message: str
) -> None:
    with pytest.raises(LaneOptionError, match=message):
        lane_command(FASTLANE, platform, lane, options)


def test_parse_option_keeps_colons_in_the_value() -> None:
    assert parse_option("url:https://example.com:8443/x") == ("url", "https://example.com:8443/x")
    with pytest.raises(LaneOptionError, match="no colon"):
        parse_option("version")


def test_unattended_env_wins_over_the_job_env() -> None:
    env = lane_env(
        {"PATH": "/bin", "LANG": "de_DE.ISO-8859-1", "CI": "", "DEPLOY_TOKEN": "s3cret"},
        artifacts_dir=Path("/w/artifacts"),
        report_dir=Path("/w/artifacts/fastlane-report"),
    )
    assert env["PATH"] == "/bin" and env["DEPLOY_TOKEN"] == "s3cret"
    assert env["CI"] == "true"
    assert env["LANG"] == env["LC_ALL"] == "C.UTF-8"
    for name in (
        "FASTLANE_SKIP_UPDATE_CHECK",
        "FASTLANE_OPT_OUT_USAGE",
        "FASTLANE_HIDE_TIMESTAMP",
        "FASTLANE_DISABLE_COLORS",
    ):
        assert env[name] == "1"
    assert env["INSTEP_ARTIFACTS_DIR"] == "/w/artifacts"
    assert env["FL_REPORT_PATH"] == "/w/artifacts/fastlane-report"
