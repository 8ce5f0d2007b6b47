"""`release.parity` in instep.yml: valid policies read back as typed values, and every mistake
is an `instep validate` error with its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestrator.cli import main
from orchestrator.spec import SpecError, parse_spec

HEAD = """\
version: 1
platforms: {android: {}, ios: {}}
stages:
  build: {lane: build}
  gate: {needs: [build]}
release:
  parity:
"""


def spec(body: str):  # type: ignore[no-untyped-def]
    return parse_spec(HEAD + body)


def test_a_full_policy_reads_back_typed() -> None:
    parity = spec(
        "    environment: production\n"
        "    mode: api\n"
        "    contracts: [orders, payments]\n"
        '    requires_api: ">=2025-11"\n'
        '    requires_contracts: {orders: ">=3", payments: 9f86d081884c}\n'
        "    requires_features: [new_checkout]\n"
        '    train: "{major}.{minor}"\n'
        "    max_lag: 14d\n"
    ).release.parity
    assert parity.environment == "production" and parity.mode == "api"
    assert parity.requires_contracts == {"orders": ">=3", "payments": "9f86d081884c"}
    assert parity.requires_features == ("new_checkout",) and parity.max_lag == 14 * 86400


def test_without_release_parity_there_is_no_policy() -> None:
    assert parse_spec(HEAD.replace("  parity:\n", "  four_eyes: true\n")).release.parity is None


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        (
            '    contracts: [orders]\n    requires_contracts:\n      orders: ">=3"\n      ordrs: ">=3"\n',
            "11:7",
            "requires_contracts names unknown contract 'ordrs' (expected one declared in release.parity.contracts: orders)",
        ),
        ('    requires_api: "latest"\n', "8:19", "requires_api 'latest' is not a version"),
        ("    requires_api: 2025\n", "8:19", "requires_api is a number (expected a quoted range"),
        (
            '    requires_contracts: {orders: "three"}\n',
            "8:34",
            "contract 'contract' requirement 'three' is not a version",
        ),
        ("    requires_contracts: [orders]\n", "8:25", "`requires_contracts` is a list (expected a mapping)"),
        (
            '    train: "{major}.{build}"\n',
            "8:12",
            "train '{major}.{build}' must use {major}, {minor}, {micro}, {patch}",
        ),
        ("    max_lag: a while\n", "8:14", "max_lag 'a while' is not a duration"),
        ("    mode: web\n", "8:11", "`mode` is 'web' (expected 'api' or 'train')"),
        ("    environment: prod uction\n", "8:18", "environment 'prod uction' is not a name"),
        ("    requires: [api]\n", "8:5", "unknown key 'requires' in `release.parity`"),
    ],
)
def test_mistakes_are_positioned(body: str, where: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        spec(body)
    text = str(caught.value)
    assert f"instep.yml:{where}: {message}" in text, text


def test_instep_validate_reports_an_unknown_contract_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "instep.yml"
    path.write_text(
        HEAD + '    contracts: [orders, payments]\n    requires_contracts: {orders: ">=3", ordres: ">=1"}\n'
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output  # 2: the file is invalid
    assert f"{path}:9:41: requires_contracts names unknown contract 'ordres'" in result.output
