"""Distributed mode: `instep serve` plus `instep worker` subprocesses on real Redis (and on
PostgreSQL when INSTEP_TEST_DATABASE_URL is set); a worker killed with SIGKILL mid-job."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import PG_URL, REDIS_URL, Repo, _reset_postgres, processes_with_env, require_service
from tests.integration.harness import Instep, wait_for

pytestmark = pytest.mark.integration
# A Redis database of its own, emptied first, so queued messages of other runs never leak in.
TEST_REDIS_DB = 13


def _redis_url() -> str:
    base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    return f"{base}/{TEST_REDIS_DB}"


@pytest.fixture
def distributed(tmp_path: Path) -> Iterator[Instep]:
    url = _redis_url()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.flushdb()
    except redis.RedisError as exc:
        require_service("Redis", False, f"{url}: {exc}")
    # Jobs run sandboxed: the folder where they leave marks for the test is theirs to write.
    (tmp_path / "marks").mkdir()
    env = {
        "INSTEP_REDIS_URL": url,
        "INSTEP_LOST_AFTER_SECONDS": "3",
        "INSTEP_SANDBOX_WRITABLE": str(tmp_path / "marks"),
    }
    if PG_URL:
        _reset_postgres(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        env["INSTEP_DATABASE_URL"] = PG_URL
    instep = Instep(tmp_path / "home", env)
    instep.serve()
    try:
        yield instep
    finally:
        instep.stop()
        client.flushdb()
        # A worker killed with SIGKILL cannot stop its job's process group; these tests end the
        # jobs they started, found by their workspace (under tmp_path) in their environment.
        for pid in processes_with_env(f"INSTEP_WORKSPACE={tmp_path}"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_jobs_are_routed_to_workers_by_queue(distributed: Instep, repo: Repo) -> None:
    distributed.start("worker-android", "worker", "--queues", "android,default", "--name", "android@test")
    distributed.start("worker-ios", "worker", "--queues", "ios", "--name", "ios@test")
    distributed.cli("project", "add", "shop", "--repo", repo.url)
    repo.commit(
        {
            "instep.yml": "version: 1\nplatforms: {android: {}, ios: {}}\nstages:\n"
            "  build:\n    run: echo building $INSTEP_PLATFORM\n"
        }
    )
    run_id = distributed.cli_json("run", "trigger", "--project", "shop", "--ref", "main")["id"]
    run = distributed.wait_run(run_id, timeout=90)
    assert run["status"] == "succeeded", run
    with distributed.api() as api:
        for job in run["jobs"]:
            log = api.get(f"/api/jobs/{job['id']}/log").text
            assert f"building {job['platform']}" in log
            assert f"on {job['platform']}@test/" in log, "each platform's job ran on its platform's worker"


def test_a_killed_worker_loses_no_run(distributed: Instep, repo: Repo, tmp_path: Path) -> None:
    marker = tmp_path / "marks" / "first-attempt"
    victim = distributed.start("worker-1", "worker", "--queues", "default,android", "--name", "victim@test")
    distributed.cli("project", "add", "shop", "--repo", repo.url)
    repo.commit(
        {
            "instep.yml": (
                "version: 1\nplatforms: {android: {}}\nstages:\n  build:\n    retries: 1\n    run: |\n"
                f"      if [ -e {marker} ]; then echo second attempt; exit 0; fi\n"
                f"      touch {marker}; echo first attempt; sleep 300\n"
            )
        }
    )
    run_id = distributed.cli_json("run", "trigger", "--project", "shop", "--ref", "main")["id"]
    wait_for("the first attempt to start", marker.exists, timeout=90)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(10)
    distributed.start("worker-2", "worker", "--queues", "default,android", "--name", "rescuer@test")
    run = distributed.wait_run(run_id, timeout=120)
    assert run["status"] == "succeeded", run
    job = run["jobs"][0]
    assert job["attempts"] == 2
    lost = [e for e in run["events"] if e["reason"] and "worker lost" in e["reason"]]
    assert lost and "victim@test" in lost[0]["reason"]
    with distributed.api() as api:
        assert "second attempt" in api.get(f"/api/jobs/{job['id']}/log").text


def test_without_retries_a_lost_job_fails_with_worker_lost(
    distributed: Instep, repo: Repo, tmp_path: Path
) -> None:
    marker = tmp_path / "marks" / "started"
    victim = distributed.start("worker-1", "worker", "--queues", "default,android", "--name", "victim@test")
    distributed.cli("project", "add", "shop", "--repo", repo.url)
    repo.commit(
        {
            "instep.yml": "version: 1\nplatforms: {android: {}}\nstages:\n  build:\n"
            f"    run: touch {marker}; sleep 300\n  after:\n    needs: [build]\n    run: echo no\n"
        }
    )
    run_id = distributed.cli_json("run", "trigger", "--project", "shop", "--ref", "main")["id"]
    wait_for("the job to start", marker.exists, timeout=90)
    os.killpg(victim.pid, signal.SIGKILL)
    run = distributed.wait_run(run_id, timeout=60)
    assert run["status"] == "failed"
    jobs = {j["key"]: j for j in run["jobs"]}
    assert jobs["build:android"]["reason"].startswith("worker lost (victim@test")
    assert jobs["after:android"]["status"] == "skipped"
    assert not any(j["status"] == "running" for j in run["jobs"])
