"""Administration commands on the server's database: db upgrade, project add/list, token create,
and the run commands' behaviour without a server or token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestrator.cli import main
from orchestrator.db.session import Database
from orchestrator.tokens import authenticate


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "INSTEP_HOME": str(tmp_path / "home"),
        "INSTEP_SECRET_KEY": "cli-test-secret-0123456789",
        "INSTEP_URL": "http://127.0.0.1:9",
        "INSTEP_TOKEN": "",
        "INSTEP_REDIS_URL": "",
        "INSTEP_DATABASE_URL": "",
    }


def invoke(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_every_command_has_help(env: dict[str, str]) -> None:
    top = invoke(env, "--help")
    assert top.exit_code == 0
    for command in ("serve", "worker", "db", "validate", "project", "token", "hook", "run"):
        assert command in top.output
        assert invoke(env, command, "--help").exit_code == 0
    for sub in (
        ("run", "trigger"),
        ("run", "logs"),
        ("project", "add"),
        ("hook", "install"),
        ("db", "upgrade"),
    ):
        assert invoke(env, *sub, "--help").exit_code == 0


def test_project_add_and_list(env: dict[str, str], tmp_path: Path) -> None:
    assert "up to date" in invoke(env, "db", "upgrade").output
    r = invoke(
        env,
        "project",
        "add",
        "shop",
        "--repo",
        "https://github.com/acme/shop.git",
        "--secret",
        "PLAY_KEY=abcd1234",
        "--json",
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["match"] == "acme/shop" and data["secret_names"] == ["PLAY_KEY"] and data["webhook_secret"]
    r = invoke(env, "project", "add", "shop", "--repo", "https://github.com/acme/shop.git")
    assert r.exit_code == 2 and "already exists" in r.output
    r = invoke(env, "project", "add", "other", "--repo", "shop", "--json")
    assert r.exit_code == 2 and "--match" in r.output
    r = invoke(env, "project", "add", "other", "--repo", "https://x/y/z.git", "--secret", "NOEQUALS")
    assert r.exit_code == 2 and "KEY=VALUE" in r.output
    listed = json.loads(invoke(env, "project", "list", "--json").output)
    assert [p["name"] for p in listed] == ["shop"] and "webhook_secret" not in listed[0]
    assert "abcd1234" not in invoke(env, "project", "list").output


def test_project_add_defaults_match_to_the_full_gitlab_namespace(env: dict[str, str]) -> None:
    r = invoke(env, "project", "add", "shop", "--repo", "https://gitlab.com/group/sub/shop.git", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["match"] == "group/sub/shop"
    r = invoke(env, "project", "add", "local", "--repo", "file:///srv/git/acme/shop.git", "--json")
    assert json.loads(r.output)["match"] == "acme/shop"
    assert "GitLab's group/sub/shop" in " ".join(invoke(env, "project", "add", "--help").output.split())


def test_project_add_with_credentials_in_the_url_never_shows_them(
    env: dict[str, str], tmp_path: Path
) -> None:
    from sqlalchemy import text

    url = "https://x-access-token:ghs_s3cretT0ken@github.com/acme/shop.git"
    r = invoke(env, "project", "add", "shop", "--repo", url, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["repo_url"] == "https://***@github.com/acme/shop.git" and data["match"] == "acme/shop"
    for output in (invoke(env, "project", "list").output, invoke(env, "project", "list", "--json").output):
        assert "ghs_s3cretT0ken" not in output and "https://***@github.com/acme/shop.git" in output
    db = Database(f"sqlite:///{tmp_path / 'home' / 'instep.db'}")
    with db.session() as s:
        row = " ".join(
            str(v) for v in s.execute(text("SELECT repo_url, repo_url_sealed FROM projects")).one()
        )
    assert "ghs_s3cretT0ken" not in row and "sealed:v1:" in row


def test_token_create_prints_the_token_once_and_stores_a_hash(env: dict[str, str], tmp_path: Path) -> None:
    data = json.loads(invoke(env, "token", "create", "--role", "qa", "--json").output)
    assert data["role"] == "qa" and data["token"].startswith("inst_")
    db = Database(f"sqlite:///{tmp_path / 'home' / 'instep.db'}")
    with db.session() as s:
        row = authenticate(s, data["token"])
        assert row is not None and row.role == "qa" and data["token"] not in row.token_hash
    assert invoke(env, "token", "create", "--role", "root").exit_code == 2


def test_run_commands_say_what_is_missing(env: dict[str, str]) -> None:
    r = invoke(env, "run", "list")
    assert r.exit_code == 2 and "INSTEP_TOKEN" in r.output
    r = invoke({**env, "INSTEP_TOKEN": "inst_x"}, "run", "list")
    assert r.exit_code == 1 and "cannot reach Instep at http://127.0.0.1:9" in r.output


def test_worker_refuses_embedded_mode_and_unknown_queues(env: dict[str, str]) -> None:
    r = invoke(env, "worker")
    assert r.exit_code == 2 and "INSTEP_REDIS_URL" in r.output
    r = invoke({**env, "INSTEP_REDIS_URL": "redis://127.0.0.1:6379/14"}, "worker", "--queues", "android,gpu")
    assert r.exit_code == 2 and "gpu" in r.output


def test_distributed_mode_needs_an_explicit_secret_key(env: dict[str, str]) -> None:
    r = invoke(
        {**env, "INSTEP_SECRET_KEY": "", "INSTEP_REDIS_URL": "redis://127.0.0.1:6379/14"}, "db", "upgrade"
    )
    assert r.exit_code == 2 and "INSTEP_SECRET_KEY" in r.output
