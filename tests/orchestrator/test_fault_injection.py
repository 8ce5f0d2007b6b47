"""Fault injection: the database commit, the live log bus append and the artifact store put each
raise on their Nth call (N over a range) while a run is planned and its jobs executed in-process.
A call that raises out of a task is a worker that died there; time then passes (an injected
clock) and the reconciler and the sweeper do their rounds. Whatever N: the run ends, with a
reason if it did not succeed; no job stays queued or running; every listed artifact is whole.
The fault matrix (component x N -> outcome) is printed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from orchestrator.artifacts import LocalArtifactStore
from orchestrator.db.models import Artifact, Job, Project, Run, utcnow
from orchestrator.db.session import Database
from orchestrator.executor import execute_attempt
from orchestrator.logbus import FileLogBus
from orchestrator.pipeline import plan_queued_run
from orchestrator.runs import create_run
from orchestrator.scheduler import reconcile, sweep_lost_messages
from orchestrator.transitions import FINAL_RUN
from tests.conftest import Repo, make_settings
from tests.orchestrator.test_executor import Worker

pytestmark = pytest.mark.slow

LOST_AFTER = timedelta(seconds=30)
RESEND_AFTER = timedelta(seconds=60)
RANGE = range(1, 7)
PIPELINE = """\
version: 1
platforms: {android: {}}
stages:
  build:
    retries: 1
    run: |
      mkdir -p "$INSTEP_ARTIFACTS_DIR"
      head -c 4096 /dev/urandom > "$INSTEP_ARTIFACTS_DIR/app.bin"
      echo built
  test:
    needs: [build]
    retries: 1
    run: echo tested > "$INSTEP_ARTIFACTS_DIR/report.txt"
"""


class InjectedFault(RuntimeError):
    pass


class Fault:
    """Raises on the Nth call of the component it is armed for, once."""

    def __init__(self) -> None:
        self.component: str | None = None
        self.nth = 0
        self.calls = 0
        self.fired = False

    def arm(self, component: str | None, nth: int = 0) -> None:
        self.component, self.nth, self.calls, self.fired = component, nth, 0, False

    def hit(self, component: str, before_raise: Callable[[], None] | None = None) -> None:
        if component != self.component:
            return
        self.calls += 1
        if self.calls == self.nth:
            self.fired = True
            if before_raise is not None:
                before_raise()
            raise InjectedFault(f"injected {component} fault on call {self.nth}")


class FaultyStore(LocalArtifactStore):
    """On its fault, a put leaves half the file at the key (a torn upload) and raises."""

    def __init__(self, root: Path, fault: Fault) -> None:
        super().__init__(root)
        self.fault = fault

    def put_file(self, key: str, path: Path) -> tuple[int, str]:
        def torn() -> None:
            target = self._path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            target.write_bytes(data[: len(data) // 2])

        self.fault.hit("store put", torn)
        return super().put_file(key, path)


class FaultyLogBus(FileLogBus):
    def __init__(self, root: Path, fault: Fault) -> None:
        super().__init__(root)
        self.fault = fault

    def append(self, job_id: int, lines: list[str]) -> None:
        self.fault.hit("log append")
        super().append(job_id, lines)


def _drive(worker: Worker, run_id: int, crashes: list[str]) -> None:
    """Deliver every message (a raise is a dead worker); when none are left, let time pass for
    the reconciler and the sweeper; until the run has ended with nothing in flight."""
    ctx, sent = worker.ctx, worker.dispatcher.sent
    clock = utcnow()
    for _round in range(12):
        while sent:
            kind, what = sent.pop(0)
            try:
                if kind == "plan":
                    plan_queued_run(ctx, what)
                elif kind == "job":
                    execute_attempt(ctx, what.job_id, what.attempt, "w1")
            except InjectedFault as exc:
                crashes.append(f"{kind}: {exc}")
        if _settled(ctx.db, run_id):
            return
        clock += LOST_AFTER + RESEND_AFTER + timedelta(seconds=1)
        for tick in (_reconcile_tick, _sweep_tick):
            try:
                tick(worker, clock)
            except InjectedFault as exc:  # the tick fails; the next one retries
                crashes.append(f"tick: {exc}")


def _reconcile_tick(worker: Worker, clock) -> None:  # type: ignore[no-untyped-def]
    with worker.ctx.db.session() as s:
        dispatches = reconcile(s, LOST_AFTER, worker.ctx.settings.max_infra_attempts, now=clock)
        s.commit()
    worker.dispatcher.jobs(dispatches)


def _sweep_tick(worker: Worker, clock) -> None:  # type: ignore[no-untyped-def]
    with worker.ctx.db.session() as s:
        resend = sweep_lost_messages(s, RESEND_AFTER, now=clock)
        s.commit()
    for run_id in resend.plans:
        worker.dispatcher.plan(run_id)
    worker.dispatcher.jobs(resend.jobs)


def _settled(db: Database, run_id: int) -> bool:
    with db.read_session() as s:
        run = s.get(Run, run_id)
        busy = s.scalar(select(Job.id).where(Job.run_id == run_id, Job.status.in_(["queued", "running"])))
        return run is not None and run.status in FINAL_RUN and busy is None


def _new_run(worker: Worker, sha: str) -> int:
    with worker.ctx.db.session() as s:
        project = s.get(Project, worker.project_id)
        assert project is not None
        run = create_run(s, project, trigger="push", ref="refs/heads/main", sha=sha)
        s.commit()
    worker.dispatcher.plan(run.id)
    return run.id


def _outcome(worker: Worker, run_id: int) -> tuple[str, list[str]]:
    """The run's outcome as the matrix shows it, and what is wrong with it (empty: nothing)."""
    problems = []
    with worker.ctx.db.read_session() as s:
        run = s.get(Run, run_id)
        assert run is not None
        jobs = s.scalars(select(Job).where(Job.run_id == run_id).order_by(Job.id)).all()
        rows = s.scalars(select(Artifact).where(Artifact.run_id == run_id)).all()
        if run.status not in FINAL_RUN:
            problems.append(f"run {run.status}")
        if run.status != "succeeded" and not run.reason:
            problems.append(f"run {run.status} without a reason")
        problems += [f"job {j.key} {j.status}" for j in jobs if j.status in ("queued", "running", "pending")]
        for row in rows:
            data = worker.store.get(row.store_key)
            if len(data) != row.size or hashlib.sha256(data).hexdigest() != row.sha256:
                problems.append(f"artifact {row.name} listed but not whole ({len(data)} of {row.size} bytes)")
        attempts = "+".join(str(j.attempts) for j in jobs)
        failed = next((j for j in jobs if j.status == "failed"), None)
        why = (failed.reason if failed else run.reason) or ""
        text = (
            f"{run.status}" + (f" [attempts {attempts}]" if jobs else "") + (f": {why[:60]}" if why else "")
        )
        # A file the store refused is left out and said so in its job's log (the run goes on).
        stored = {r.name for r in rows if r.kind == "file"}
        logs = {r.job_id: worker.store.get(r.store_key).decode() for r in rows if r.kind == "log"}
        for job in jobs:
            name = {"build": "app.bin", "test": "report.txt"}[job.stage]
            if job.status == "succeeded" and f"{job.key}/{name}" not in stored:
                if f"artifact {name} not stored" not in logs.get(job.id, ""):
                    problems.append(f"{job.key} succeeded without {name} and its log does not say so")
    return text, problems


def test_every_run_ends_whatever_call_fails(tmp_path: Path, database: Database, repo: Repo) -> None:
    fault = Fault()
    settings = make_settings(tmp_path / "home", INSTEP_HEARTBEAT_SECONDS="600")  # no beats: counts stay exact
    worker = Worker(settings, database, repo, store=FaultyStore(settings.home / "artifacts", fault))
    worker.ctx.logs = FaultyLogBus(settings.logs_dir, fault)
    event.listen(database.sessions, "before_commit", lambda _session: fault.hit("database commit"))
    sha = repo.commit({"instep.yml": PIPELINE})

    matrix: dict[tuple[str, int], str] = {}
    failures: list[str] = []
    for component in ("database commit", "log append", "store put"):
        for nth in RANGE:
            run_id = _new_run(worker, sha)
            fault.arm(component, nth)
            crashes: list[str] = []
            try:
                _drive(worker, run_id, crashes)
            finally:
                fired = "" if fault.fired else " (fault not reached)"
                fault.arm(None)
            outcome, problems = _outcome(worker, run_id)
            matrix[(component, nth)] = outcome + fired + (f" | crashes: {len(crashes)}" if crashes else "")
            failures += [f"{component} #{nth}: {p}" for p in problems]

    width = max(len(c) for c, _ in matrix)
    print("\nfault matrix (component x N -> outcome):")
    for (component, nth), outcome in matrix.items():
        print(f"  {component:<{width}}  N={nth}  {outcome}")
    assert failures == []
    # The live log is a view: its bus failing never fails or crashes a job (the uploaded log is kept).
    assert all(matrix[("log append", n)].startswith("succeeded") for n in RANGE)
    assert not any("crashes" in matrix[("log append", n)] for n in RANGE)
    assert any("fault not reached" not in o for (c, _), o in matrix.items() if c == "store put")
    assert all(
        "fault not reached" not in matrix[(c, 1)] for c in ("database commit", "log append", "store put")
    )
