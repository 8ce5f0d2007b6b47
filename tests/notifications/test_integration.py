"""End to end: `instep serve` (embedded, and distributed with a worker on real Redis) sends a
finished run's signed webhook and its commit status to a loopback receiver, from its own loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from orchestrator.notifications.signing import verify
from tests.conftest import PG_URL, REDIS_URL, Repo, _reset_postgres, require_service
from tests.integration.harness import Instep, wait_for
from tests.notifications.receiver import Receiver

pytestmark = pytest.mark.integration
# A Redis database of its own (the distributed suite uses 13), emptied first and after.
TEST_REDIS_DB = 11
PIPELINE = "version: 1\nplatforms: {android: {}}\nstages:\n  unit:\n    run: echo unit tests\n"


def _redis_url() -> str:
    base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    return f"{base}/{TEST_REDIS_DB}"


@pytest.fixture(params=["embedded", "distributed"])
def instep(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Instep]:
    env = {"INSTEP_ALLOW_PRIVATE_WEBHOOKS": "1", "INSTEP_PUBLIC_URL": "https://instep.example.com"}
    client = None
    if request.param == "distributed":
        url = _redis_url()
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=2)
            client.flushdb()
        except redis.RedisError as exc:
            require_service("Redis", False, f"{url}: {exc}")
        env["INSTEP_REDIS_URL"] = url
        if PG_URL:
            _reset_postgres(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
            env["INSTEP_DATABASE_URL"] = PG_URL
    server = Instep(tmp_path / "home", env)
    server.serve()
    if request.param == "distributed":
        server.start("worker", "worker", "--queues", "default,android", "--name", "notify@test")
    try:
        yield server
    finally:
        server.stop()
        if client is not None:
            client.flushdb()


def test_a_finished_run_reaches_the_webhook_and_its_commit_once(instep: Instep, repo: Repo) -> None:
    with Receiver() as receiver:
        instep.cli("project", "add", "shop", "--repo", repo.url, "--match", "acme/shop")
        secret = instep.cli_json(
            "notify",
            "add",
            "-p",
            "shop",
            "--kind",
            "webhook",
            "--url",
            f"{receiver.url}/hook",
            "--event",
            "run.*",
        )["secret"]
        instep.cli(
            "notify",
            "commit-status",
            "set",
            "-p",
            "shop",
            "--provider",
            "github",
            "--api-url",
            f"{receiver.url}/api/v3",
            "--token",
            "ghp_integration",
        )
        sha = repo.commit({"instep.yml": PIPELINE}, "add pipeline")
        run_id = instep.cli_json("run", "trigger", "--project", "shop", "--ref", "main")["id"]
        assert instep.wait_run(run_id, timeout=90)["status"] == "succeeded"

        def final_status_and_event() -> bool:
            paths = [r.path for r in receiver.requests]
            return "/hook" in paths and any(
                json.loads(r.body).get("state") == "success" for r in receiver.requests if r.path != "/hook"
            )

        wait_for("the webhook and the final commit status", final_status_and_event, timeout=30)
        requests = list(receiver.requests)

    [hook] = [r for r in requests if r.path == "/hook"]
    assert verify(secret, hook.body, hook.headers["x-instep-signature-256"])
    body = json.loads(hook.body)
    assert body["event"] == "run.succeeded" and body["url"] == f"https://instep.example.com/runs/{run_id}"
    statuses = [r for r in requests if r.path != "/hook"]
    assert {r.path for r in statuses} == {f"/api/v3/repos/acme/shop/statuses/{sha}"}
    states = [json.loads(r.body)["state"] for r in statuses]
    assert states[-1] == "success" and states.count("success") == 1, states
    assert set(states[:-1]) <= {"pending"}
    assert all(r.headers["authorization"] == "Bearer ghp_integration" for r in statuses)
