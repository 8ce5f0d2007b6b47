"""Which fastlane runs, in the documented order, and what a user is told when there is none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lanes.errors import FastlaneNotFound
from lanes.locate import FastlaneFacts, choose_fastlane, fastlane_setting, gather_facts, locate_fastlane

NOTHING = FastlaneFacts(
    configured=None,
    configured_resolved=None,
    gemfile=None,
    gemfile_names_fastlane=False,
    bundle=None,
    on_path=None,
    toolchain=None,
)


def facts(**changes: object) -> FastlaneFacts:
    return FastlaneFacts(**{**NOTHING.__dict__, **changes})  # type: ignore[arg-type]


def test_configured_wins_over_everything_and_keeps_its_arguments() -> None:
    chosen = choose_fastlane(
        facts(
            configured="bundle exec fastlane",
            configured_resolved="/usr/bin/bundle",
            gemfile=Path("/w/Gemfile"),
            gemfile_names_fastlane=True,
            bundle="/usr/bin/bundle",
            on_path="/usr/local/bin/fastlane",
            toolchain=Path("/instep/tools/bin/fastlane"),
        )
    )
    assert chosen.argv == ("/usr/bin/bundle", "exec", "fastlane")
    assert chosen.source == "INSTEP_FASTLANE"


def test_gemfile_naming_fastlane_means_bundle_exec() -> None:
    chosen = choose_fastlane(
        facts(
            gemfile=Path("/w/Gemfile"),
            gemfile_names_fastlane=True,
            bundle="/usr/bin/bundle",
            on_path="/x/fastlane",
        )
    )
    assert chosen.argv == ("/usr/bin/bundle", "exec", "fastlane")


def test_gemfile_without_fastlane_falls_through_to_path() -> None:
    chosen = choose_fastlane(
        facts(gemfile=Path("/w/Gemfile"), bundle="/usr/bin/bundle", on_path="/x/fastlane")
    )
    assert chosen.argv == ("/x/fastlane",)


def test_path_then_dev_toolchain() -> None:
    assert choose_fastlane(facts(on_path="/x/fastlane", toolchain=Path("/t/fastlane"))).argv == (
        "/x/fastlane",
    )
    chosen = choose_fastlane(facts(toolchain=Path("/t/fastlane")))
    assert chosen.argv == ("/t/fastlane",) and chosen.source == "Instep dev toolchain"


def test_missing_fastlane_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(FastlaneNotFound) as error:
        locate_fastlane(tmp_path, configured=None, path=str(tmp_path / "empty-bin"), toolchain=None)
    message = str(error.value)
    assert "gem install fastlane" in message
    assert "Gemfile" in message
    assert "make tools" in message and "install-fastlane.sh" in message


def test_configured_fastlane_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(FastlaneNotFound, match="INSTEP_FASTLANE='/opt/nowhere/fastlane' does not name"):
        locate_fastlane(tmp_path, configured="/opt/nowhere/fastlane", toolchain=None)


def test_gemfile_with_fastlane_but_no_bundler(tmp_path: Path) -> None:
    (tmp_path / "Gemfile").write_text('source "https://rubygems.org"\ngem "fastlane"\n')
    with pytest.raises(FastlaneNotFound, match="gem install bundler"):
        locate_fastlane(tmp_path, path=str(tmp_path / "empty-bin"), toolchain=None)


def test_gather_facts_reads_the_gemfile(tmp_path: Path) -> None:
    (tmp_path / "Gemfile").write_text('gem "cocoapods"\n')
    found = gather_facts(tmp_path, configured=None, path="", toolchain=None)
    assert found.gemfile == tmp_path / "Gemfile" and not found.gemfile_names_fastlane
    (tmp_path / "Gemfile.lock").write_text("GEM\n  specs:\n    fastlane (2.220.0)\n")
    assert gather_facts(tmp_path, configured=None, path="", toolchain=None).gemfile_names_fastlane


def test_setting_is_read_from_instep_fastlane_only() -> None:
    assert fastlane_setting({"INSTEP_FASTLANE": "/opt/fastlane"}) == "/opt/fastlane"
    assert fastlane_setting({"INSTEP_FASTLANE": ""}) is None
    assert fastlane_setting({"FASTLANE": "/x"}) is None


def test_configured_command_on_path_is_resolved(tmp_path: Path) -> None:
    # `sh` stands in for "some executable on PATH"; it is never run.
    chosen = locate_fastlane(tmp_path, configured="sh -c true", path=os.defpath, toolchain=None)
    assert chosen.argv[0].endswith("/sh") and chosen.argv[1:] == ("-c", "true")
