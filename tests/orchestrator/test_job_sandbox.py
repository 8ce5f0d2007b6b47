"""A job cannot reach the server's secrets: under the bubblewrap sandbox a `run:` step that goes
after the secret key, the database, another job's workspace or another process's environment
gets nothing, and a process it starts with setsid ends with the job. Without bubblewrap a worker
refuses jobs unless INSTEP_UNSANDBOXED_JOBS=1."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from orchestrator import job_sandbox as job_sandbox_module
from orchestrator.db.session import Database
from tests.conftest import Repo, make_settings, processes_with_env, require_service
from tests.orchestrator.test_executor import Worker, one_step
from toolrun import sandbox as sandbox_module
from toolrun.sandbox import find_bwrap


@pytest.fixture
def sandboxed(tmp_path: Path, database: Database, repo: Repo) -> Worker:
    require_service("bubblewrap", find_bwrap() is not None, "apt-get install bubblewrap")
    job_sandbox_module._bwrap.cache_clear()
    settings = make_settings(tmp_path / "home")
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / "secret_key").write_text("server-secret-key-on-disk")
    (settings.home / "instep.db").write_text("SQLite format 3 (a stand-in: the tests' database is elsewhere)")
    (settings.workspaces_dir / "job-999" / "src").mkdir(parents=True)
    (settings.workspaces_dir / "job-999" / "src" / "theirs.txt").write_text("another job's checkout")
    return Worker(settings, database, repo)


def test_a_job_gets_nothing_of_the_key_the_database_other_jobs_or_other_processes(
    sandboxed: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = uuid.uuid4().hex
    outside = subprocess.Popen(["sleep", "60"], env={**os.environ, "INSTEP_SECRET_KEY": marker})
    try:
        home = sandboxed.ctx.settings.home
        run_id = sandboxed.plan(
            one_step(
                '\'set +e; cat "$INSTEP_WORKSPACE/../../../secret_key"; cat '
                f"{home}/secret_key {home}/instep.db; ls {home}/workspaces/job-999/src; "
                'cat /proc/*/environ 2>/dev/null | tr "\\\\0" "\\\\n" | grep -c INSTEP_SECRET_KEY; '
                "cp $INSTEP_WORKSPACE/../../../secret_key $INSTEP_ARTIFACTS_DIR/ 2>/dev/null; echo end'"
            )
        )
        job_id = sandboxed.job_id(run_id, "unit:ios")
        sandboxed.execute(job_id)
    finally:
        outside.kill()
        outside.wait()
    log = sandboxed.log(job_id)
    assert "server-secret-key-on-disk" not in log and marker not in log
    assert "SQLite format" not in log and "theirs.txt" not in log
    assert "\n0\n" in log, log  # no process it can see has the server's key in its environment
    assert set(sandboxed.artifacts(job_id)) == {"unit:ios/log.txt"}, "the key must not become an artifact"
    assert "jobs run sandboxed" not in log  # the worker says that at start, not per job


def test_a_setsid_child_does_not_outlive_its_job(sandboxed: Worker) -> None:
    marker = f"INSTEP_TEST_JOB={uuid.uuid4().hex}"
    run_id = sandboxed.plan(one_step(f"'export {marker}; setsid sleep 77 & echo started'"))
    job_id = sandboxed.job_id(run_id, "unit:ios")
    sandboxed.execute(job_id)
    assert sandboxed.job(job_id)["status"] == "succeeded"
    deadline = time.monotonic() + 10
    while processes_with_env(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with_env(marker) == []


def test_without_bubblewrap_a_job_fails_saying_how_to_fix_it(
    tmp_path: Path, database: Database, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: None)
    job_sandbox_module._bwrap.cache_clear()
    try:
        worker = Worker(make_settings(tmp_path / "home"), database, repo)
        job_id = worker.job_id(worker.plan(one_step("'echo should not run'")), "unit:ios")
        worker.execute(job_id)
        job = worker.job(job_id)
        assert job["status"] == "failed"
        assert "apt-get install bubblewrap" in job["reason"] and "INSTEP_UNSANDBOXED_JOBS=1" in job["reason"]
        assert "should not run" not in worker.log(job_id)
    finally:
        job_sandbox_module._bwrap.cache_clear()


def test_without_bubblewrap_jobs_run_when_unsandboxed_jobs_are_allowed(
    tmp_path: Path, database: Database, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: None)
    job_sandbox_module._bwrap.cache_clear()
    try:
        allowed = Worker(make_settings(tmp_path / "home", INSTEP_UNSANDBOXED_JOBS="1"), database, repo)
        job_id = allowed.job_id(allowed.plan(one_step("'echo ran unsandboxed'")), "unit:ios")
        allowed.execute(job_id)
        assert allowed.job(job_id)["status"] == "succeeded"
        assert "ran unsandboxed" in allowed.log(job_id)
    finally:
        job_sandbox_module._bwrap.cache_clear()
