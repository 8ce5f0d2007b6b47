"""The `gate` and `submit` stage kinds as `instep validate` sees them."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from click.testing import CliRunner

from orchestrator.cli import main
from orchestrator.spec import SpecError, parse_spec

HEAD = "version: 1\nplatforms: {ios: {}, android: {}}\nstages:\n  build: {lane: build}\n"


def test_a_release_pipeline_validates_and_a_gate_runs_once_unless_per_platform() -> None:
    spec = parse_spec(HEAD + "  gate: {needs: [build]}\n  submit: {needs: [gate], lane: release}\n")
    assert spec.stages["gate"].kind == "gate" and spec.stages["gate"].per_platform is False
    spec = parse_spec(HEAD + "  gate: {needs: [build], per_platform: true}\n")
    assert spec.stages["gate"].per_platform is True


def test_a_gate_runs_no_command() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(HEAD + "  gate: {needs: [build], lane: release}\n")
    assert str(caught.value) == "instep.yml:5:26: gate stage 'gate' runs no command (expected no `lane:`)"


def test_submit_without_a_lane_uses_the_store_adapter(tmp_path: Path) -> None:
    path = tmp_path / "instep.yml"
    path.write_text(HEAD + "  gate: {needs: [build]}\n  ship: {kind: submit, needs: [gate]}\n")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    spec = parse_spec(path.read_text())
    # A worker lost mid-call is retried: the next attempt reads the store before sending.
    assert spec.stages["ship"].lane is None and spec.stages["ship"].retries == 2


def test_submit_must_come_after_a_gate(tmp_path: Path) -> None:
    path = tmp_path / "instep.yml"
    path.write_text(
        dedent(
            """\
            version: 1
            platforms: {ios: {}}
            stages:
              build: {lane: build}
              submit:
                needs: [build]
                lane: release
            """
        )
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:6:12: stage 'submit' needs no `gate` stage, so nothing would hold the release before the "
        "stores (expected `needs:` to include a gate stage, directly or through other stages)"
    ]
