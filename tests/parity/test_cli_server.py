"""`instep web record-deployment`, `instep parity` and `instep can-i-ship` against a real
`instep serve` (subprocess), with a real git repository holding the app's instep.yml."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Repo
from tests.integration.harness import Instep

pytestmark = pytest.mark.integration

PIPELINE = """version: 1
platforms: {android: {}, ios: {}}
stages:
  build: {run: echo build}
  gate: {needs: [build], per_platform: true}
release:
  parity:
    environment: production
    contracts: [orders]
    requires_api: ">=2025-11"
    requires_contracts: {orders: ">=3"}
"""


@pytest.fixture
def instep(tmp_path: Path) -> Iterator[Instep]:
    server = Instep(tmp_path / "home")
    server.serve()
    try:
        yield server
    finally:
        server.stop()


def test_the_web_records_deployments_and_the_app_asks_whether_it_can_ship(instep: Instep, repo: Repo) -> None:
    repo.commit({"instep.yml": PIPELINE}, "release pipeline with web parity")
    added = instep.cli_json("project", "add", "shop", "--repo", repo.url, "--web-repo", "acme/shop-web")
    assert added["web_repo"] == "acme/shop-web"
    deployer = instep.cli_json("token", "create", "--role", "web_deployer", "--name", "web-ci")["token"]

    empty = instep.cli("can-i-ship", "--project", "shop", "--version", "4.2.0", check=False)
    assert empty.returncode == 1, empty.stdout + empty.stderr
    assert "no: shop 4.2.0 (pending)" in empty.stdout
    assert "no web deployment recorded for production" in empty.stdout
    assert "policy: instep.yml at main (" in empty.stdout

    bad = instep.cli("can-i-ship", "--project", "shop", "--version", "four", check=False)
    assert bad.returncode == 2 and "--version 'four' is not a version" in bad.stderr

    record = [
        "web", "record-deployment", "--project", "shop", "--env", "production", "--token", deployer,
    ]  # fmt: skip
    refused = instep.cli(*record, "--version", "2026.12.1", "--api-version", "last-week", check=False)
    assert refused.returncode == 2 and "--api-version 'last-week' is not a version" in refused.stderr
    old = instep.cli(*record, "--version", "2026.12.1", "--api-version", "2025-11", "--contract", "orders=v2")
    assert "recorded production web 2026.12.1 (api 2025-11) as deployment 1" in old.stdout

    still = instep.cli(
        "can-i-ship", "--project", "shop", "--version", "4.2.0", "--platform", "ios", check=False
    )
    assert still.returncode == 1
    assert "needs contract orders >=3, production web 2026.12.1 (api 2025-11) has orders v2" in still.stdout

    new = instep.cli(
        *record, "--version", "2026.12.2", "--api-version", "2025-11", "--contract", "orders=v3",
        "--feature", "new_checkout", "--commit", "c" * 40, "--json",
    )  # fmt: skip
    assert json.loads(new.stdout)["current"]["version"] == "2026.12.2"

    ok = instep.cli("can-i-ship", "--project", "shop", "--version", "4.2.0", "--platform", "ios")
    assert "yes: shop 4.2.0 on ios (passed)" in ok.stdout
    assert "production web 2026.12.2 (api 2025-11) provides api >= 2025-11, contract orders v3" in ok.stdout
    answer = instep.cli_json("can-i-ship", "--project", "shop", "--version", "4.2.0")
    assert answer["ok"] is True and answer["web"]["id"] == 2

    board = instep.cli("parity", "--project", "shop")
    assert "production: web 2026.12.2  api 2025-11  (deployed " in board.stdout
    assert "  ios      -" in board.stdout and "  android  -" in board.stdout
    every = instep.cli_json("parity")
    assert [b["project"] for b in every] == ["shop"]
    assert every[0]["environments"][0]["web"]["contracts"] == {"orders": "v3"}

    # The web's token records deployments and nothing else.
    denied = instep.cli("parity", "--project", "shop", "--token", deployer, check=False)
    assert denied.returncode == 1 and "403 role 'web_deployer' may not do this" in denied.stderr

    back = instep.cli(
        "web",
        "rollback",
        "--project",
        "shop",
        "--env",
        "production",
        "--version",
        "2026.12.2",
        "--token",
        deployer,
    )
    assert "production web 2026.12.2 rolled back; now 2026.12.1" in back.stdout
    after = instep.cli("can-i-ship", "--project", "shop", "--version", "4.2.0", check=False)
    assert after.returncode == 1 and "has orders v2" in after.stdout
    listed = instep.cli("web", "list", "--project", "shop")
    assert "2026.12.2  2025-11  rolled_back" in listed.stdout
