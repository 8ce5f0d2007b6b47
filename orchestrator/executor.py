"""Executes one job attempt on a worker: the attempt's lifecycle and nothing else.

Load the job (typed, as planned) and mark it running, check out the commit, keep a heartbeat,
let the job's stage kind run it, upload the log and artifacts, and record the outcome. What a
kind does lives in `orchestrator.stages`; the Celery task body calls `execute_attempt`."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from orchestrator.context import Context
from orchestrator.db.models import Artifact, Job, Project, Run
from orchestrator.job_artifacts import store_files, store_log
from orchestrator.job_environment import job_env
from orchestrator.job_sandbox import SandboxUnavailable, job_sandbox, sandbox_env
from orchestrator.joblog import JobLog
from orchestrator.jobspec import JobPlan, JobSpecError
from orchestrator.projects import clone_url, job_secrets
from orchestrator.scheduler import finish_attempt, heartbeat, start_attempt
from orchestrator.stages import Attempt, JobWork, Outcome, UnknownStageKind, stage_kind
from orchestrator.workspaces import WorkspaceError, checkout, ensure_commit
from toolrun.redaction import Redactor

log = logging.getLogger(__name__)

__all__ = ["JobWork", "Outcome", "execute_attempt"]


def _load_work(ctx: Context, job_id: int, attempt: int, worker: str) -> JobWork | Outcome | None:
    """The attempt's work, marked running; None for a stale delivery, or the failed Outcome of a
    job this worker cannot read (planned by another version)."""
    with ctx.db.session() as s:
        job = start_attempt(s, job_id, attempt, worker)
        if job is None:
            s.rollback()
            return None
        try:
            plan = JobPlan.from_row(job)
            stage_kind(plan.kind)
        except (JobSpecError, UnknownStageKind) as exc:
            log.warning("job %s: %s", job_id, exc)
            outcome = Outcome("failed", str(exc))
            dispatches = finish_attempt(s, job_id, attempt, outcome.status, outcome.reason)
            s.commit()
            ctx.dispatcher.jobs(dispatches)
            return outcome
        run = s.get(Run, job.run_id)
        assert run is not None
        project = s.get(Project, run.project_id)
        assert project is not None
        work = JobWork(
            job_id=job.id,
            run_id=run.id,
            run_number=run.number,
            attempt=attempt,
            job=plan,
            project_id=project.id,
            project_name=project.name,
            repo_url=clone_url(project, ctx.sealer),
            secrets=job_secrets(project, ctx.sealer),
            ref=run.ref,
            sha=run.sha,
            default_branch=project.default_branch,
        )
        s.commit()
    return work


@contextmanager
def _heartbeat(ctx: Context, work: JobWork, cancel: threading.Event) -> Iterator[None]:
    """Beat while the body runs (including the upload); a beat that finds the job canceled or
    taken away sets `cancel`."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(ctx.settings.heartbeat_seconds):
            try:
                with ctx.db.session() as s:
                    if heartbeat(s, work.job_id, work.attempt):
                        cancel.set()
                    s.commit()
            except Exception:  # a missed beat is retried on the next tick; the reconciler is the judge
                log.warning("job %s: heartbeat failed", work.job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{work.job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


def _run(
    ctx: Context, work: JobWork, job_dir: Path, out: JobLog, cancel: threading.Event, worker: str
) -> Outcome:
    """Check out the commit and let the job's kind run it; never raises."""
    redactor = Redactor(work.secrets.values())
    workspace, artifacts_dir = job_dir / "src", job_dir / "artifacts"
    try:
        if work.attempt > 1:
            out.line(f"--- attempt {work.attempt} on {worker} ---")
        out.line(f"instep: {work.job.key} at {work.sha[:12]} ({work.ref}) on {worker}")
        try:
            mirror = ensure_commit(ctx.settings.mirrors_dir, work.project_id, work.repo_url, work.sha)
            checkout(mirror, work.sha, workspace)
            sandbox = job_sandbox(ctx.settings, job_dir, workspace, artifacts_dir)
        except (WorkspaceError, SandboxUnavailable) as exc:
            out.line(f"instep: {redactor(str(exc))}")
            outcome = Outcome("failed", redactor(str(exc)))
        else:
            attempt = Attempt(
                ctx=ctx,
                work=work,
                workspace=workspace,
                artifacts_dir=artifacts_dir,
                env=sandbox_env(job_env(work, workspace, artifacts_dir), sandbox, job_dir),
                log=out,
                cancel=cancel,
                redactor=redactor,
                sandbox=sandbox,
            )
            outcome = stage_kind(work.job.kind).run(attempt)
        out.line(
            f"instep: {work.job.key} {outcome.status}" + (f": {outcome.reason}" if outcome.reason else "")
        )
    except Exception as exc:  # an Instep bug must still end the job, with the reason visible
        log.exception("job %s crashed", work.job_id)
        outcome = Outcome(
            "failed", f"internal error in the worker: {type(exc).__name__}: {redactor(str(exc))}"
        )
        out.line(f"instep: {outcome.reason}")
    return outcome


def _finish(ctx: Context, work: JobWork, outcome: Outcome, rows: list[Artifact]) -> None:
    """Record the artifacts, the kind's own rows and the outcome in one transaction, then send
    the jobs that became ready."""
    with ctx.db.session() as s:
        s.add_all(rows)
        if outcome.finish_with is not None:
            job_row, run_row = s.get(Job, work.job_id), s.get(Run, work.run_id)
            if job_row is not None and run_row is not None and job_row.status == "running":
                outcome.finish_with(s, job_row, run_row)
        dispatches = finish_attempt(
            s,
            work.job_id,
            work.attempt,
            outcome.status,
            outcome.reason,
            outcome.exit_code,
            results=outcome.results,
        )
        s.commit()
    ctx.dispatcher.jobs(dispatches)


def execute_attempt(ctx: Context, job_id: int, attempt: int, worker: str) -> Outcome | None:
    """Run one attempt of a job end to end. Returns None when the delivery was stale."""
    loaded = _load_work(ctx, job_id, attempt, worker)
    if not isinstance(loaded, JobWork):
        if loaded is None:
            log.info("job %s attempt %s: stale delivery ignored", job_id, attempt)
        return loaded
    work = loaded
    job_dir = ctx.settings.workspaces_dir / f"job-{work.job_id}"
    if job_dir.exists():
        shutil.rmtree(job_dir, ignore_errors=True)
    artifacts_dir = job_dir / "artifacts"
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    log_path = job_dir / f"attempt-{attempt}.log"
    out = JobLog(ctx.logs, work.job_id, log_path)
    cancel = threading.Event()
    with _heartbeat(ctx, work, cancel):
        try:
            outcome = _run(ctx, work, job_dir, out, cancel, worker)
            rows = store_files(ctx.store, work, artifacts_dir, out.line)
        finally:
            out.close()
        try:
            rows.insert(0, store_log(ctx.store, work, log_path))
        except Exception as exc:  # the outcome still counts; the reason says where the log went
            log.exception("job %s: log not stored", work.job_id)
            lost = (
                f"the log could not be stored ({type(exc).__name__}: {exc}); "
                f"it stays at {log_path} on {worker}"
            )
            outcome = replace(outcome, reason=f"{outcome.reason}; {lost}" if outcome.reason else lost)
    ctx.logs.close(work.job_id)
    _finish(ctx, work, outcome, rows)
    shutil.rmtree(job_dir / "src", ignore_errors=True)
    return outcome
