"""One job attempt end to end on the worker, without Celery: a real database, a real git repository
made with `git init`, the local artifact store and the file log bus. Each test asserts what a user
sees: the job's status and reason, the stored log, the artifacts and the results."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from sqlalchemy import select

from orchestrator.artifacts import LocalArtifactStore
from orchestrator.context import Context
from orchestrator.db.models import Artifact, Job, JobAttempt, Run
from orchestrator.db.session import Database
from orchestrator.executor import execute_attempt
from orchestrator.logbus import FileLogBus
from orchestrator.planner import Trigger, plan_run
from orchestrator.projects import create_project
from orchestrator.runs import create_run
from orchestrator.scheduler import apply_plan
from orchestrator.sealing import Sealer
from orchestrator.settings import Settings
from orchestrator.spec import parse_spec
from orchestrator.stages import Outcome
from tests.conftest import Repo, make_settings
from tests.orchestrator.conftest import RecordingDispatcher

SECRET = "s3cr3t-token-value"
WORKER = "test-worker"


class Worker:
    """A project on a real repository, runs planned from its instep.yml, attempts executed here."""

    def __init__(
        self, settings: Settings, database: Database, repo: Repo, store: LocalArtifactStore | None = None
    ) -> None:
        self.repo = repo
        self.dispatcher = RecordingDispatcher()
        self.store = store or LocalArtifactStore(settings.home / "artifacts")
        self.ctx = Context(
            settings=settings,
            db=database,
            store=self.store,
            logs=FileLogBus(settings.logs_dir),
            dispatcher=self.dispatcher,
            sealer=Sealer(settings.secret_key),
        )
        with database.session() as s:
            project = create_project(
                s,
                sealer=self.ctx.sealer,
                name="shop",
                repo_url=repo.url,
                match_name="acme/shop",
                secrets={"API_TOKEN": SECRET},
            )
            s.commit()
            self.project_id = project.id

    def plan(self, pipeline: str, files: dict[str, str] | None = None, sha: str | None = None) -> int:
        """Commit the pipeline (and files), create a run of it and store its plan; the run's id."""
        text = dedent(pipeline)
        commit = self.repo.commit({"instep.yml": text, **(files or {})})
        plan = plan_run(parse_spec(text), Trigger("manual", "refs/heads/main", commit))
        with self.ctx.db.session() as s:
            from orchestrator.db.models import Project

            project = s.get(Project, self.project_id)
            assert project is not None
            run = create_run(s, project, trigger="manual", ref="refs/heads/main", sha=sha or commit)
            apply_plan(s, run.id, plan)
            s.commit()
            return run.id

    def job_id(self, run_id: int, key: str) -> int:
        with self.ctx.db.session() as s:
            job_id = s.scalar(select(Job.id).where(Job.run_id == run_id, Job.key == key))
            assert job_id is not None
            return job_id

    def edit_job(self, job_id: int, **columns: Any) -> None:
        with self.ctx.db.session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            for name, value in columns.items():
                setattr(job, name, value)
            s.commit()

    def execute(self, job_id: int, attempt: int = 1) -> Outcome | None:
        return execute_attempt(self.ctx, job_id, attempt, WORKER)

    def job(self, job_id: int) -> dict[str, Any]:
        with self.ctx.db.session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            attempt = s.scalar(select(JobAttempt).where(JobAttempt.job_id == job_id))
            run = s.get(Run, job.run_id)
            assert run is not None
            return {
                "status": job.status,
                "reason": job.reason,
                "results": job.results,
                "exit_code": attempt.exit_code if attempt else None,
                "run": (run.status, run.reason),
            }

    def artifacts(self, job_id: int) -> dict[str, bytes]:
        with self.ctx.db.session() as s:
            rows = s.scalars(select(Artifact).where(Artifact.job_id == job_id).order_by(Artifact.id)).all()
            return {row.name: self.store.get(row.store_key) for row in rows}

    def log(self, job_id: int) -> str:
        with self.ctx.db.session() as s:
            row = s.scalar(select(Artifact).where(Artifact.job_id == job_id, Artifact.kind == "log"))
            assert row is not None, "the attempt stored no log"
            return self.store.get(row.store_key).decode()


@pytest.fixture
def worker(settings: Settings, database: Database, repo: Repo) -> Worker:
    return Worker(settings, database, repo)


ONE_STEP = """\
version: 1
platforms: {{ios: {{}}}}
stages:
  unit:
    run: {command}
    env: {{STAGE_VAR: from-stage}}
"""


def one_step(command: str) -> str:
    return ONE_STEP.format(command=command)


def test_a_run_step_succeeds_with_its_log_and_artifacts_stored(
    worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_ONLY", "leaks-if-seen")
    run_id = worker.plan(
        one_step(
            "'echo hello from $INSTEP_JOB_KEY; echo token=$API_TOKEN; echo stage=$STAGE_VAR; "
            "echo worker=${WORKER_ONLY:-unset}; mkdir -p $INSTEP_ARTIFACTS_DIR/reports; "
            "echo ok > $INSTEP_ARTIFACTS_DIR/reports/summary.txt'"
        )
    )
    job_id = worker.job_id(run_id, "unit:ios")

    outcome = worker.execute(job_id)

    assert outcome is not None and outcome.status == "succeeded"
    job = worker.job(job_id)
    assert (job["status"], job["reason"], job["exit_code"]) == ("succeeded", None, 0)
    assert job["run"] == ("succeeded", None)
    log = worker.log(job_id)
    assert "hello from unit:ios" in log
    assert "token=***" in log and SECRET not in log
    assert "stage=from-stage" in log
    assert "worker=unset" in log, "the worker's own environment must not reach the job"
    assert log.rstrip().endswith("instep: unit:ios succeeded")
    stored = worker.artifacts(job_id)
    assert stored["unit:ios/reports/summary.txt"] == b"ok\n"
    assert set(stored) == {"unit:ios/log.txt", "unit:ios/reports/summary.txt"}


def test_a_failing_step_fails_the_job_and_the_run_with_its_last_line(worker: Worker) -> None:
    run_id = worker.plan(one_step("'echo first; echo \"boom: missing Podfile\" >&2; exit 3'"))
    job_id = worker.job_id(run_id, "unit:ios")

    worker.execute(job_id)

    job = worker.job(job_id)
    assert (job["status"], job["reason"], job["exit_code"]) == (
        "failed",
        "step exited with code 3: boom: missing Podfile",
        3,
    )
    assert job["run"][0] == "failed"
    assert "instep: unit:ios failed: step exited with code 3" in worker.log(job_id)


def test_a_commit_that_cannot_be_checked_out_fails_the_job_with_git_s_reason(worker: Worker) -> None:
    run_id = worker.plan(one_step("'true'"), sha="b" * 40)
    job_id = worker.job_id(run_id, "unit:ios")

    worker.execute(job_id)

    job = worker.job(job_id)
    assert job["status"] == "failed" and "b" * 12 in (job["reason"] or "")
    assert job["reason"] in worker.log(job_id)


def test_a_stale_delivery_changes_nothing(worker: Worker) -> None:
    run_id = worker.plan(one_step("'true'"))
    job_id = worker.job_id(run_id, "unit:ios")

    assert worker.execute(job_id, attempt=2) is None
    assert worker.job(job_id)["status"] == "queued"
    assert worker.execute(job_id) is not None
    assert worker.execute(job_id) is None, "a redelivered task must not run the job twice"


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"spec": {"env": ["not", "a", "mapping"]}}, "job 'unit:ios' was stored in a form this version"),
        ({"spec": "run: true"}, "job 'unit:ios' was stored in a form this version"),
        ({"kind": "deploy"}, "stage kind 'deploy' is not known to this version of Instep"),
    ],
)
def test_a_job_this_worker_cannot_read_fails_with_a_clear_reason(
    worker: Worker, columns: dict[str, Any], expected: str
) -> None:
    run_id = worker.plan(one_step("'true'"))
    job_id = worker.job_id(run_id, "unit:ios")
    worker.edit_job(job_id, **columns)

    outcome = worker.execute(job_id)

    assert outcome is not None and outcome.status == "failed"
    job = worker.job(job_id)
    assert job["status"] == "failed" and expected in (job["reason"] or "")
    assert job["run"][0] == "failed"


def test_a_crash_inside_a_stage_kind_still_ends_the_job_with_its_log(
    worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import orchestrator.stages.command as command

    def crash(attempt: Any) -> Outcome:
        attempt.log.line("about to crash")
        raise RuntimeError(f"bug holding {SECRET}")

    monkeypatch.setattr(command, "run_command", crash)
    run_id = worker.plan(one_step("'true'"))
    job_id = worker.job_id(run_id, "unit:ios")

    worker.execute(job_id)

    job = worker.job(job_id)
    assert job["status"] == "failed"
    assert job["reason"] == "internal error in the worker: RuntimeError: bug holding ***"
    log = worker.log(job_id)
    assert "about to crash" in log and SECRET not in log


def _poll(what: str, check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def fast_worker(tmp_path: Path, database: Database, repo: Repo) -> Worker:
    return Worker(make_settings(tmp_path / "fast", INSTEP_HEARTBEAT_SECONDS="0.05"), database, repo)


def test_a_canceled_job_is_stopped_at_the_next_heartbeat(fast_worker: Worker) -> None:
    worker = fast_worker
    run_id = worker.plan(one_step("'echo started; sleep 60'"))
    job_id = worker.job_id(run_id, "unit:ios")
    done: list[Outcome | None] = []
    thread = threading.Thread(target=lambda: done.append(worker.execute(job_id)))
    thread.start()
    _poll("the step to start", lambda: "started" in worker.ctx.logs.read(job_id, 0)[0])

    worker.edit_job(job_id, cancel_requested=True)
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert done[0] is not None and done[0].status == "canceled"
    job = worker.job(job_id)
    assert (job["status"], job["reason"]) == ("canceled", "canceled while running")
    assert "started" in worker.log(job_id)


# --- what the attempt leaves behind ---------------------------------------------------------------

ODD_NAMES = """\
printf 'x' > "$INSTEP_ARTIFACTS_DIR/back\\\\slash.txt"
printf 'y' > "$INSTEP_ARTIFACTS_DIR/$(printf 'caf\\351.txt')"
printf 'z' > "$INSTEP_ARTIFACTS_DIR/100%.txt"
printf 'r' > "$INSTEP_ARTIFACTS_DIR/r\u00e9sum\u00e9 \u2713.txt"
"""


def test_artifact_names_with_a_backslash_or_bytes_that_are_not_utf8_are_stored_escaped(
    worker: Worker,
) -> None:
    run_id = worker.plan(one_step("'sh make_files.sh'"), files={"make_files.sh": ODD_NAMES})
    job_id = worker.job_id(run_id, "unit:ios")

    worker.execute(job_id)

    assert worker.job(job_id)["status"] == "succeeded"
    stored = worker.artifacts(job_id)
    assert stored["unit:ios/back%5Cslash.txt"] == b"x"
    assert stored["unit:ios/caf%E9.txt"] == b"y"
    assert stored["unit:ios/100%25.txt"] == b"z"
    assert stored["unit:ios/r\u00e9sum\u00e9 \u2713.txt"] == b"r"


def test_any_stored_artifact_name_downloads_through_the_api(worker: Worker) -> None:
    from fastapi.testclient import TestClient

    from orchestrator.api import create_app
    from orchestrator.tokens import create_token

    run_id = worker.plan(one_step("'sh make_files.sh'"), files={"make_files.sh": ODD_NAMES})
    job_id = worker.job_id(run_id, "unit:ios")
    worker.execute(job_id)
    with worker.ctx.db.session() as s:
        token = create_token(s, "developer")[1]
        s.commit()
        rows = s.scalars(select(Artifact).where(Artifact.job_id == job_id, Artifact.kind == "file")).all()
        ids = {row.name.split("/", 1)[1]: row.id for row in rows}
    client = TestClient(create_app(worker.ctx))

    for name, body in [
        ("caf%E9.txt", b"y"),
        ("r\u00e9sum\u00e9 \u2713.txt", b"r"),
        ("back%5Cslash.txt", b"x"),
    ]:
        response = client.get(f"/api/artifacts/{ids[name]}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (name, response.text)
        assert response.content == body
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"back%5Cslash.txt\"; filename*=UTF-8''back%255Cslash.txt"
    )


class FailingStore(LocalArtifactStore):
    """The local store, failing every upload whose key ends with one of `failing`."""

    def __init__(self, root: Path, failing: tuple[str, ...]) -> None:
        super().__init__(root)
        self.failing = failing

    def put_file(self, key: str, path: Path) -> tuple[int, str]:
        if key.endswith(self.failing):
            raise OSError(28, "No space left on device")
        return super().put_file(key, path)


def test_a_file_that_cannot_be_stored_is_reported_in_the_log_and_the_rest_is_stored(
    settings: Settings, database: Database, repo: Repo
) -> None:
    store = FailingStore(settings.home / "artifacts", ("files/big.bin",))
    worker = Worker(settings, database, repo, store)
    run_id = worker.plan(
        one_step("'echo 1 > $INSTEP_ARTIFACTS_DIR/big.bin; echo 2 > $INSTEP_ARTIFACTS_DIR/small.txt'")
    )
    job_id = worker.job_id(run_id, "unit:ios")

    worker.execute(job_id)

    assert worker.job(job_id)["status"] == "succeeded"
    assert set(worker.artifacts(job_id)) == {"unit:ios/log.txt", "unit:ios/small.txt"}
    assert "instep: artifact big.bin not stored: OSError: [Errno 28] No space left on device" in worker.log(
        job_id
    )


def test_a_log_that_cannot_be_stored_still_ends_the_job_saying_so(
    settings: Settings, database: Database, repo: Repo
) -> None:
    worker = Worker(settings, database, repo, FailingStore(settings.home / "artifacts", ("log.txt",)))
    run_id = worker.plan(one_step("'echo 2 > $INSTEP_ARTIFACTS_DIR/small.txt'"))
    job_id = worker.job_id(run_id, "unit:ios")

    worker.execute(job_id)

    job = worker.job(job_id)
    assert job["status"] == "succeeded"
    assert (job["reason"] or "").startswith("the log could not be stored (OSError: [Errno 28] No space")
    assert set(worker.artifacts(job_id)) == {"unit:ios/small.txt"}


class WatchingStore(LocalArtifactStore):
    """Holds the log upload until the job's heartbeat has moved on, as a slow upload would."""

    def __init__(self, root: Path, database: Database) -> None:
        super().__init__(root)
        self.database = database
        self.beat_during_upload = False

    def _heartbeat_at(self, job_id: int) -> Any:
        with self.database.session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            return job.heartbeat_at

    def put_file(self, key: str, path: Path) -> tuple[int, str]:
        if key.endswith("log.txt"):
            job_id = int(key.split("/")[3])
            before = self._heartbeat_at(job_id)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not self.beat_during_upload:
                self.beat_during_upload = self._heartbeat_at(job_id) != before
                time.sleep(0.02)
        return super().put_file(key, path)


def test_the_heartbeat_keeps_beating_through_the_upload(
    tmp_path: Path, database: Database, repo: Repo
) -> None:
    settings = make_settings(tmp_path / "fast", INSTEP_HEARTBEAT_SECONDS="0.05")
    store = WatchingStore(settings.home / "artifacts", database)
    worker = Worker(settings, database, repo, store)
    run_id = worker.plan(one_step("'true'"))
    job_id = worker.job_id(run_id, "unit:ios")

    worker.execute(job_id)

    assert store.beat_during_upload, "no heartbeat while the log was being uploaded"
    assert worker.job(job_id)["status"] == "succeeded"


def test_a_device_suite_gets_the_job_environment_and_nothing_else_of_the_worker(
    worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import orchestrator.stages.device_suite as device_suite
    from device_farm.suite import SuiteError

    requests: list[Any] = []

    def run_suite(request: Any, ctx: Any) -> Any:
        requests.append(request)
        raise SuiteError(f"stopped by the test; the tests would see {request.env['API_TOKEN']}")

    monkeypatch.setenv("WORKER_ONLY", "leaks-if-seen")
    monkeypatch.setattr(device_suite, "find_appium", lambda *args: "/bin/true")
    monkeypatch.setattr(device_suite, "run_suite", run_suite)
    run_id = worker.plan(
        """\
        version: 1
        platforms: {ios: {}}
        stages:
          acceptance: {devices: [iphone-15], env: {STAGE_VAR: from-stage}}
        """,
        files={"tests/acceptance/test_home.py": "def test_home():\n    pass\n"},
    )
    job_id = worker.job_id(run_id, "acceptance:ios")

    worker.execute(job_id)

    job = worker.job(job_id)
    assert (job["status"], job["reason"]) == ("failed", "stopped by the test; the tests would see ***")
    [request] = requests
    assert request.env["STAGE_VAR"] == "from-stage" and request.env["API_TOKEN"] == SECRET
    assert request.env["INSTEP_JOB_KEY"] == "acceptance:ios"
    assert "WORKER_ONLY" not in request.env
