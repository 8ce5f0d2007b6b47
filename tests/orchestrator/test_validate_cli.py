"""`instep validate`: exit codes, the summary on stdout, and one line per problem on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from orchestrator.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples/sample-app"

VALID = """\
version: 1
platforms: {android: {}, ios: {}}
stages:
  unit: {run: make test}
  build: {lane: build, needs: [unit], platforms: [android]}
  report: {run: make report, needs: [build], per_platform: false}
"""

INVALID = """\
version: 1
platforms: {android: {}}
stages:
  unit: {run: make test, timeout: soon}
  build: {run: make, needs: [unti]}
"""


def validate(*args: str) -> Result:
    return CliRunner().invoke(main, ["validate", *args])


def test_the_sample_app_is_valid_and_its_jobs_are_summarised() -> None:
    result = validate(str(SAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{SAMPLE / 'instep.yml'} is valid: 5 stage(s), 8 job(s)",
        "stages: unit, build, acceptance, screenshots, gate",
        "jobs per platform:",
        "  android: 3 (unit, build, gate)",
        "  ios: 3 (unit, build, gate)",
        "  all platforms (run once): 2 (acceptance, screenshots)",
    ]
    assert result.stderr == ""


def test_without_a_path_it_reads_instep_yml_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "instep.yml").write_text(VALID)
    monkeypatch.chdir(tmp_path)
    result = validate()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "instep.yml is valid: 3 stage(s), 4 job(s)",
        "stages: unit, build, report",
        "jobs per platform:",
        "  android: 2 (unit, build)",
        "  ios: 1 (unit)",
        "  all platforms (run once): 1 (report)",
    ]


def test_an_invalid_file_exits_2_with_each_problem_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yml"
    path.write_text(INVALID)
    result = validate(str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:4:35: timeout 'soon' is not a duration (expected seconds, or a duration like 90s, 30m, 2h, 1h30m)",
        f"{path}:5:30: stage 'build' needs 'unti', which is not a stage (expected one of: unit, build)",
    ]


def test_a_missing_file_exits_2_naming_the_path(tmp_path: Path) -> None:
    result = validate(str(tmp_path / "nope.yml"))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"instep: error: cannot read {tmp_path / 'nope.yml'}: no such file "
        "(expected an instep.yml; pass its path or its directory)"
    ]


def test_a_directory_without_a_pipeline_names_the_file_it_looked_for(tmp_path: Path) -> None:
    result = validate(str(tmp_path))
    assert result.exit_code == 2
    assert f"cannot read {tmp_path / 'instep.yml'}: no such file" in result.stderr


def test_json_for_a_valid_file_lists_stages_and_their_jobs(tmp_path: Path) -> None:
    (tmp_path / "instep.yml").write_text(VALID)
    result = validate(str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "valid": True,
        "file": str(tmp_path / "instep.yml"),
        "errors": [],
        "stages": [
            {"name": "unit", "kind": "unit", "needs": [], "jobs": ["unit:android", "unit:ios"]},
            {"name": "build", "kind": "build", "needs": ["unit"], "jobs": ["build:android"]},
            {"name": "report", "kind": "run", "needs": ["build"], "jobs": ["report"]},
        ],
    }


def test_json_for_an_invalid_file_lists_positioned_errors_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "instep.yml").write_text(INVALID)
    result = validate(str(tmp_path), "--json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert document["stages"] == []
    assert [(e["line"], e["column"]) for e in document["errors"]] == [(4, 35), (5, 30)]
    assert document["errors"][1]["message"].startswith("stage 'build' needs 'unti'")


def test_json_for_a_missing_file_still_answers_with_a_document(tmp_path: Path) -> None:
    result = validate(str(tmp_path / "nope.yml"), "--json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert document["errors"][0]["line"] is None
    assert "no such file" in document["errors"][0]["message"]


def test_help_describes_the_exit_codes() -> None:
    result = validate("--help")
    assert result.exit_code == 0
    assert "Exits 0 when the pipeline is valid, 2 when it is invalid or missing" in result.stdout


def test_an_unknown_device_profile_is_named(tmp_path: Path) -> None:
    (tmp_path / "instep.yml").write_text(
        "version: 1\nplatforms: {android: {}}\nstages:\n  acceptance:\n    devices: [pixel-8, nokia-3310]\n"
    )
    result = validate(str(tmp_path))
    assert result.exit_code == 2
    assert "instep.yml:5:24: unknown device profile 'nokia-3310'" in result.stderr
    (tmp_path / "devices.yml").write_text(
        "devices:\n  - {name: nokia-3310, backend: remote, url: http://127.0.0.1:1}\n"
    )
    result = validate(str(tmp_path), "--devices", str(tmp_path / "devices.yml"))
    assert result.exit_code == 0, result.output
