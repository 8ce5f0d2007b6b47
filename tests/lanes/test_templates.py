"""`instep lanes init` output (rendering is pure; real fastlane parses it in test_fastlane.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lanes.cli import lanes
from lanes.errors import TemplateError
from lanes.templates import TemplateConfig, init_fastlane, render


def test_ios_lanes_use_the_real_actions_with_the_projects_settings() -> None:
    fastfile = render(
        TemplateConfig(
            platforms=("ios",),
            bundle_id="com.acme.shop",
            scheme="Shop",
            xcode_workspace="ios/Shop.xcworkspace",
        )
    )["Fastfile"]
    assert 'build_app(\n      workspace: "ios/Shop.xcworkspace", scheme: "Shop",' in fastfile
    assert 'export_method: "app-store"' in fastfile
    assert "run_tests(" in fastfile and "capture_screenshots(" in fastfile
    assert "upload_to_testflight(" in fastfile
    assert "submit_for_review: true" in fastfile and "phased_release: true" in fastfile
    assert "platform :android" not in fastfile
    appfile = render(TemplateConfig(platforms=("ios",), bundle_id="com.acme.shop"))["Appfile"]
    assert 'app_identifier("com.acme.shop")' in appfile and "package_name" not in appfile


def test_android_lanes_use_track_rollout_and_promotion() -> None:
    fastfile = render(
        TemplateConfig(
            platforms=("android",),
            package_name="com.acme.shop",
            gradle_task="assemble",
            track="beta",
            rollout=0.25,
        )
    )["Fastfile"]
    assert 'gradle(\n      task: "assemble",\n      build_type: "Release"' in fastfile
    assert 'track: "beta",' in fastfile
    assert 'rollout = (options[:rollout] || "0.25").to_s' in fastfile
    assert 'track_promote_to: (options[:to] || "production").to_s' in fastfile
    assert "apk: lane_context[SharedValues::GRADLE_APK_OUTPUT_PATH]" in fastfile
    assert "default_platform(:android)" in fastfile


def test_values_cannot_inject_ruby() -> None:
    fastfile = render(TemplateConfig(platforms=("ios",), scheme='Shop" + `rm -rf /` + "#{x}'))["Fastfile"]
    assert 'scheme: "Shop\\" + `rm -rf /` + \\"\\#{x}"' in fastfile


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (TemplateConfig(platforms=("windows",)), "unknown platform 'windows'"),
        (TemplateConfig(platforms=()), "choose at least one platform"),
        (TemplateConfig(platforms=("android",), rollout=1.5), "rollout 1.5 must be a fraction"),
        (
            TemplateConfig(platforms=("android",), track="production"),
            "store track 'production' must be one of",
        ),
        (TemplateConfig(platforms=("android",), package_name="shop"), "package name 'shop'"),
        (TemplateConfig(platforms=("ios",), bundle_id="not an id"), "bundle id 'not an id'"),
        (TemplateConfig(platforms=("android",), gradle_task="clean"), "Gradle task 'clean'"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(config: TemplateConfig, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        render(config)


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    fastfile = tmp_path / "fastlane" / "Fastfile"
    fastfile.parent.mkdir()
    fastfile.write_text("# the team's own lanes\n")
    with pytest.raises(TemplateError, match="already exist.*--force"):
        init_fastlane(tmp_path, TemplateConfig(platforms=("android",)))
    assert fastfile.read_text() == "# the team's own lanes\n"
    assert not (tmp_path / "fastlane" / "Appfile").exists()
    written = init_fastlane(tmp_path, TemplateConfig(platforms=("android",)), force=True)
    assert written == [fastfile, tmp_path / "fastlane" / "Appfile"]
    assert "platform :android do" in fastfile.read_text()


def test_cli_init_writes_files_and_refuses_a_second_time(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["init", "--platform", "ios,android", "--path", str(tmp_path), "--bundle-id", "com.acme.shop"]
    first = runner.invoke(lanes, args)
    assert first.exit_code == 0, first.output
    assert f"wrote {tmp_path / 'fastlane' / 'Fastfile'}" in first.output
    second = runner.invoke(lanes, args)
    assert second.exit_code == 2
    assert "already exist" in second.output and "--force" in second.output
    bad = runner.invoke(lanes, ["init", "--platform", "ios,web", "--path", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "unknown platform 'web'" in bad.output
