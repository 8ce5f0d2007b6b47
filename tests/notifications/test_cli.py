"""`instep notify ...` on the server's database: endpoints, commit-status setting, dead letters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestrator.cli import main
from orchestrator.db.session import Database
from orchestrator.notifications.models import DEAD, NotificationDelivery
from orchestrator.notifications.service import publish
from tests.notifications.receiver import Receiver


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "INSTEP_HOME": str(tmp_path / "home"),
        "INSTEP_SECRET_KEY": "cli-test-secret-0123456789",
        "INSTEP_REDIS_URL": "",
        "INSTEP_DATABASE_URL": "",
        "INSTEP_ALLOW_PRIVATE_WEBHOOKS": "1",
        "INSTEP_COMMIT_STATUS_TOKEN": "",
    }


def invoke(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_endpoints_from_the_command_line(env: dict[str, str], receiver: Receiver) -> None:
    assert invoke(env, "project", "add", "shop", "--repo", "https://github.com/acme/shop.git").exit_code == 0
    r = invoke(
        env,
        "notify",
        "add",
        "-p",
        "shop",
        "--kind",
        "webhook",
        "--url",
        f"{receiver.url}/h",
        "--event",
        "run.failed",
        "--event",
        "release.*",
        "--json",
    )
    assert r.exit_code == 0, r.output
    created = json.loads(r.output)
    assert created["events"] == ["run.failed", "release.*"] and len(created["secret"]) >= 32
    r = invoke(env, "notify", "add", "-p", "shop", "--kind", "slack", "--url", f"{receiver.url}/services/x")
    assert r.exit_code == 0 and "signing secret" not in r.output
    listed = json.loads(invoke(env, "notify", "list", "-p", "shop", "--json").output)
    assert [(e["kind"], e["url"]) for e in listed] == [
        ("webhook", f"{receiver.url}/h"),
        ("slack", f"{receiver.url}/…"),
    ]
    assert invoke(env, "notify", "remove", "-p", "shop", str(created["id"])).exit_code == 0
    r = invoke(env, "notify", "remove", "-p", "shop", str(created["id"]))
    assert r.exit_code == 1 and f"project shop has no notification endpoint {created['id']}" in r.output
    r = invoke(env, "notify", "list", "-p", "nope")
    assert r.exit_code == 2 and "no project named 'nope'" in r.output


def test_a_loopback_url_is_refused_without_the_flag(env: dict[str, str]) -> None:
    invoke(env, "project", "add", "shop", "--repo", "https://github.com/acme/shop.git")
    strict = {**env, "INSTEP_ALLOW_PRIVATE_WEBHOOKS": "0"}
    r = invoke(strict, "notify", "add", "-p", "shop", "--kind", "webhook", "--url", "http://[::1]:9/x")
    assert r.exit_code == 2
    assert "::1 is a loopback address" in r.output and "INSTEP_ALLOW_PRIVATE_WEBHOOKS=1" in r.output


def test_commit_status_setting_and_dead_letters(env: dict[str, str], receiver: Receiver) -> None:
    invoke(
        env,
        "project",
        "add",
        "shop",
        "--repo",
        "https://gitlab.example.com/acme/mobile/shop.git",
        "--match",
        "acme/mobile/shop",
    )
    r = invoke(
        {**env, "INSTEP_COMMIT_STATUS_TOKEN": "glpat-secret"},
        "notify",
        "commit-status",
        "set",
        "-p",
        "shop",
        "--provider",
        "gitlab",
        "--api-url",
        f"{receiver.url}/api/v4",
        "--json",
    )
    assert r.exit_code == 0, r.output
    assert "glpat-secret" not in r.output
    shown = json.loads(invoke(env, "notify", "commit-status", "show", "-p", "shop", "--json").output)
    assert shown["provider"] == "gitlab" and shown["repository"] == "acme/mobile/shop"
    r = invoke(env, "notify", "commit-status", "set", "-p", "shop", "--provider", "gitlab")
    assert r.exit_code == 2 and "--token" in r.output
    assert invoke(env, "notify", "commit-status", "remove", "-p", "shop").exit_code == 0
    assert json.loads(invoke(env, "notify", "commit-status", "show", "-p", "shop", "--json").output) is None

    # A dead letter, as the sender leaves it after its last attempt.
    created = json.loads(
        invoke(env, "notify", "add", "-p", "shop", "--kind", "slack", "--url", receiver.url, "--json").output
    )
    db = Database(f"sqlite:///{Path(env['INSTEP_HOME']) / 'instep.db'}")
    with db.session() as s:
        publish(s, 1, "run.failed", {})
        s.flush()
        d = s.query(NotificationDelivery).one()
        d.state, d.attempts, d.last_error = DEAD, 8, "HTTP 500 from http://127.0.0.1/…"
        s.commit()
        dead_id = d.id
    db.dispose()
    [dead] = json.loads(invoke(env, "notify", "dead-letters", "--json").output)
    assert (dead["id"], dead["project"], dead["attempts"]) == (dead_id, "shop", 8)
    assert dead["last_error"] == "HTTP 500 from http://127.0.0.1/…" and created["kind"] == "slack"
    retried = json.loads(invoke(env, "notify", "retry", str(dead_id), "--json").output)
    assert retried["state"] == "pending" and retried["attempts"] == 0
    r = invoke(env, "notify", "retry", str(dead_id))
    assert r.exit_code == 1 and "not dead" in r.output
    assert "no dead letters" in invoke(env, "notify", "dead-letters").output
