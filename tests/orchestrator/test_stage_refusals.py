"""Until releases land, `gate` and `submit` stages without `run:`/`lane:` are refused by
`instep validate` and at planning, at their line and column (the refusal lives in
`orchestrator/stages/gate.py` and `submit.py`; the releases work replaces them and this file)."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from click.testing import CliRunner

from orchestrator.cli import main
from orchestrator.spec import SpecError, parse_spec


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        (
            "  gate: {needs: [unit]}",
            "instep.yml:5:3: stage 'gate': gate stages arrive with releases, which this version of "
            "Instep does not have yet (remove the stage for now)",
        ),
        (
            "  ship: {kind: submit, needs: [unit]}",
            "instep.yml:5:3: stage 'ship': submitting through Instep's store adapters arrives with "
            "releases, which this version of Instep does not have yet (expected your submission "
            "`lane:` or a `run:` command)",
        ),
    ],
)
def test_gate_and_submit_without_a_command_are_refused_at_their_line(stage: str, expected: str) -> None:
    text = "version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: x}\n" + stage + "\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert str(caught.value).splitlines() == [expected]


def test_instep_validate_refuses_a_gate_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "instep.yml"
    path.write_text(
        dedent(
            """\
            version: 1
            platforms: {ios: {}}
            stages:
              build: {lane: build}
              gate:
                needs: [build]
            """
        )
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{path}:5:3: stage 'gate': gate stages arrive with releases, which this version of Instep "
        "does not have yet (remove the stage for now)"
    ]
