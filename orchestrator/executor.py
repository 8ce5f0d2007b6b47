"""Executes one job attempt on a worker: workspace, step, live log, artifacts, outcome.

The task body calls `execute_attempt`; what a step does is decided by the job's kind and spec."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from orchestrator.context import Context
from orchestrator.db.models import Artifact, Job, Project, Run
from toolrun.process import run_process
from orchestrator.projects import job_secrets
from toolrun.redaction import Redactor
from orchestrator.scheduler import finish_attempt, heartbeat, start_attempt
from orchestrator.workspaces import WorkspaceError, checkout, ensure_commit

log = logging.getLogger(__name__)

# Environment a job inherits from the worker; everything else comes from instep.yml and secrets.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SHELL", "TERM")
LOG_FLUSH_LINES = 200
LOG_FLUSH_SECONDS = 0.2
MAX_COLLECTED_ARTIFACTS = 500


@dataclass(frozen=True)
class Outcome:
    status: str  # succeeded | failed | canceled
    reason: str | None
    exit_code: int | None = None
    results: dict[str, Any] | None = None
    # A screenshot stage's comparisons, stored with the outcome.
    comparisons: list[Any] | None = None


@dataclass(frozen=True)
class JobWork:
    """Everything the worker needs, copied out of the database before the step starts."""

    job_id: int
    run_id: int
    run_number: int
    attempt: int
    key: str
    kind: str
    platform: str | None
    shard: int | None
    shard_count: int
    timeout_s: int
    spec: dict[str, Any]
    project_id: int
    project_name: str
    repo_url: str
    secrets: dict[str, str]
    ref: str
    sha: str
    default_branch: str = "main"


class JobLog:
    """Writes each line to the local log file and, batched, to the live log bus."""

    def __init__(self, ctx: Context, job_id: int, path: Path) -> None:
        self.ctx = ctx
        self.job_id = job_id
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8", errors="replace")
        self._pending: list[str] = []
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self.lines = 0

    def line(self, text: str) -> None:
        with self._lock:
            self._file.write(text + "\n")
            self._pending.append(text)
            self.lines += 1
            if (
                len(self._pending) >= LOG_FLUSH_LINES
                or time.monotonic() - self._last_flush >= LOG_FLUSH_SECONDS
            ):
                self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._file.flush()
            self.ctx.logs.append(self.job_id, self._pending)
            self._pending = []
        self._last_flush = time.monotonic()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def close(self) -> None:
        with self._lock:
            self._flush()
            self._file.close()


def _load_work(ctx: Context, job_id: int, attempt: int, worker: str) -> JobWork | None:
    with ctx.db.session() as s:
        job = start_attempt(s, job_id, attempt, worker)
        if job is None:
            s.rollback()
            return None
        run = s.get(Run, job.run_id)
        assert run is not None
        project = s.get(Project, run.project_id)
        assert project is not None
        work = JobWork(
            job_id=job.id,
            run_id=run.id,
            run_number=run.number,
            attempt=attempt,
            key=job.key,
            kind=job.kind,
            platform=job.platform,
            shard=job.shard,
            shard_count=job.shard_count,
            timeout_s=job.timeout_s,
            spec=dict(job.spec),
            project_id=project.id,
            project_name=project.name,
            repo_url=project.repo_url,
            secrets=job_secrets(project, ctx.sealer),
            ref=run.ref,
            sha=run.sha,
            default_branch=project.default_branch,
        )
        s.commit()
    return work


def _job_env(work: JobWork, workspace: Path, artifacts_dir: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env.update({k: str(v) for k, v in (work.spec.get("env") or {}).items()})
    env.update(work.secrets)
    env.update(
        {
            "CI": "true",
            "INSTEP": "1",
            "INSTEP_PROJECT": work.project_name,
            "INSTEP_RUN_ID": str(work.run_id),
            "INSTEP_RUN_NUMBER": str(work.run_number),
            "INSTEP_JOB_ID": str(work.job_id),
            "INSTEP_JOB_KEY": work.key,
            "INSTEP_ATTEMPT": str(work.attempt),
            "INSTEP_COMMIT": work.sha,
            "INSTEP_REF": work.ref,
            "INSTEP_WORKSPACE": str(workspace),
            "INSTEP_ARTIFACTS_DIR": str(artifacts_dir),
        }
    )
    if work.platform:
        env["INSTEP_PLATFORM"] = work.platform
    return env


def _run_lane(
    ctx: Context,
    work: JobWork,
    workspace: Path,
    artifacts_dir: Path,
    env: dict[str, str],
    out: JobLog,
    cancel: threading.Event,
    redactor: Redactor,
) -> Outcome:
    from lanes import LanesError, locate_fastlane, run_lane

    try:
        fastlane = locate_fastlane(workspace, configured=ctx.settings.fastlane)
        out.line(f"instep: fastlane: {fastlane.describe()}")
        result = run_lane(
            fastlane,
            work.platform,
            work.spec["lane"],
            work.spec.get("lane_options") or {},
            workspace=workspace,
            artifacts_dir=artifacts_dir,
            env=env,
            on_line=out.line,
            timeout=work.timeout_s,
            cancel=cancel,
            redactor=redactor,
        )
    except LanesError as exc:
        return Outcome("failed", redactor(str(exc)))
    results = result.as_dict()
    if result.steps:
        out.line(
            "instep: steps: "
            + ", ".join(
                f"{s.name} {s.duration_s:.1f}s" + (" FAILED" if s.failure else "") for s in result.steps
            )
        )
    counts = results.get("test_counts") or {}
    if any(counts.values()):
        out.line("instep: tests: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    for problem in result.problems:
        out.line(f"instep: {redactor(problem)}")
    return Outcome(result.status, result.reason, result.exit_code, results=results)


def _lease_store(ctx: Context):  # type: ignore[no-untyped-def]
    """One lease store per service process: in-process in embedded mode, Redis when distributed."""
    from device_farm.leases import InMemoryLeaseStore, RedisLeaseStore

    with _LEASES_LOCK:
        store = ctx.extras.get("leases")
        if store is None:
            store = (
                RedisLeaseStore.from_url(ctx.settings.redis_url)
                if ctx.settings.redis_url
                else InMemoryLeaseStore()
            )
            ctx.extras["leases"] = store
        return store


_LEASES_LOCK = threading.Lock()
DEFAULT_SUITES = {"acceptance": "tests/acceptance", "screenshots": "tests/capture"}


def _run_suite(
    ctx: Context,
    work: JobWork,
    workspace: Path,
    artifacts_dir: Path,
    out: JobLog,
    cancel: threading.Event,
    redactor: Redactor,
) -> Outcome:
    """An acceptance or screenshot-capture stage: the repo's pytest suite on the stage's device
    profiles, split across `shards` leased devices, through one Appium server per device."""
    from device_farm.appium_server import AppiumError, AppiumLauncher, find_appium
    from device_farm.durations import JsonDurationStore
    from device_farm.leases import LeaseError
    from device_farm.profiles import ProfileError, load_inventory
    from device_farm.reports import write_junit
    from device_farm.suite import SuiteContext, SuiteError, SuiteRequest, run_suite

    if not work.spec.get("devices"):
        if work.kind == "screenshots":
            return Outcome(
                "failed",
                "comparing screenshots with baselines is not available in this version of "
                "Instep; give the stage `devices:` to capture them",
            )
        return Outcome("failed", f"stage {work.key!r} names no `devices:` to run its suite on")
    relative = work.spec.get("suite") or DEFAULT_SUITES[work.kind]
    suite_dir = (workspace / relative).resolve()
    if not suite_dir.is_relative_to(workspace.resolve()) or not suite_dir.is_dir():
        return Outcome(
            "failed", f"no test suite folder {relative!r} in the repository (set the stage's `suite:`)"
        )
    app = work.spec.get("app")
    if app and "://" not in app:
        app_dir = (workspace / app).resolve()
        if not app_dir.is_relative_to(workspace.resolve()) or not app_dir.is_dir():
            return Outcome("failed", f"the stage's `app: {app}` is not a folder in the repository")
        app = str(app_dir)
    settings = ctx.settings
    try:
        inventory = load_inventory(settings.home / "devices.yml")
        appium = AppiumLauncher(find_appium(settings.appium_home), settings.appium_home)
        request = SuiteRequest(
            suite=work.kind,
            path=suite_dir,
            devices=tuple(work.spec.get("devices") or ()),
            shards=work.shard_count if work.shard_count > 1 else None,
            retries=int(work.spec.get("test_retries") or 0),
            project=work.project_name,
            app=app,
            shard_timeout_s=float(work.timeout_s),
        )
        suite_ctx = SuiteContext(
            inventory=inventory,
            leases=_lease_store(ctx),
            durations=JsonDurationStore(settings.home / "durations"),
            artifacts_dir=artifacts_dir,
            appium=appium,
            on_line=lambda line: out.line(redactor(line)),
            cancel=cancel,
            holder=f"job-{work.job_id}-attempt-{work.attempt}",
        )
        if work.kind == "acceptance":
            reports = {"": run_suite(request, suite_ctx)}
        else:
            # A capture suite must see every profile, so it runs once per device profile (the
            # acceptance suite instead spreads its tests over the devices).
            reports = {}
            for device in request.devices:
                if cancel.is_set():
                    break
                reports[device] = run_suite(replace(request, devices=(device,), shards=None), suite_ctx)
                shards_dir = artifacts_dir / "shards"
                if shards_dir.is_dir():
                    shards_dir.rename(artifacts_dir / f"shards-{device}")
    except (SuiteError, ProfileError, AppiumError, LeaseError) as exc:
        return Outcome("failed", redactor(str(exc)))
    reasons: list[str] = []
    results: dict[str, Any] = {"suites": {}}
    for device, report in reports.items():
        write_junit(report, artifacts_dir / (f"junit-{device}.xml" if device else "junit.xml"))
        results["suites"][device or work.kind] = report.to_json()
        label = f"{device}: " if device else ""
        counts = report.counts()
        out.line(
            f"instep: {label}tests: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        )
        out.line(
            f"instep: {label}makespan predicted {report.predicted_makespan_s:.1f} s, "
            f"actual {report.actual_makespan_s:.1f} s"
        )
        if not report.passed:
            reasons += [f"{label}{r}" for r in [*report.errors, *report.verdict.reasons]] or [
                f"{label}tests failed"
            ]
    if cancel.is_set():
        return Outcome("canceled", "canceled while the suite ran", results=results)
    if reasons:
        return Outcome("failed", redactor("; ".join(reasons[:3]))[:1000], results=results)
    if work.kind == "screenshots":
        return _compare_screenshots(ctx, work, artifacts_dir, out, results)
    return Outcome("succeeded", None, results=results)


def _compare_screenshots(
    ctx: Context, work: JobWork, artifacts_dir: Path, out: JobLog, results: dict[str, Any]
) -> Outcome:
    """Compare the captures with the branch baselines; changes wait for QA review."""
    from orchestrator.reviews import branch_of, captured_screens, compare_captures

    branch = branch_of(work.ref, work.default_branch)
    prepared, verdict = compare_captures(
        ctx.store,
        project=work.project_name,
        platform=work.platform,
        branch=branch,
        default_branch=work.default_branch,
        captured=captured_screens(artifacts_dir),
    )
    for p in prepared:
        pixels = f" ({p.diff_pixels} px)" if p.diff_pixels else ""
        out.line(f"instep: screenshot {p.name}: {p.status}{pixels}")
    out.line(f"instep: screenshots on branch {branch}: {verdict.reason}")
    results["screenshots"] = {"branch": branch, "verdict": verdict.state.value}
    # The stage verdict's states (waiting, succeeded, failed) are job statuses as they are.
    return Outcome(verdict.state.value, verdict.reason, results=results, comparisons=prepared)


def _run_step(
    ctx: Context,
    work: JobWork,
    workspace: Path,
    artifacts_dir: Path,
    env: dict[str, str],
    out: JobLog,
    cancel: threading.Event,
    redactor: Redactor,
) -> Outcome:
    command = work.spec.get("run")
    if command:
        result = run_process(
            ["/bin/sh", "-e", "-c", command],
            cwd=workspace,
            env=env,
            on_line=out.line,
            timeout=work.timeout_s,
            cancel=cancel,
            redactor=redactor,
        )
        if result.timed_out:
            return Outcome("failed", f"timed out after {work.timeout_s} s")
        if result.canceled:
            return Outcome("canceled", "canceled while running")
        if result.exit_code != 0:
            last = next((line for line in reversed(result.tail) if line.strip()), "")
            detail = f": {last.strip()[:300]}" if last else ""
            return Outcome("failed", f"step exited with code {result.exit_code}{detail}", result.exit_code)
        return Outcome("succeeded", None, 0)
    if work.spec.get("lane"):
        return _run_lane(ctx, work, workspace, artifacts_dir, env, out, cancel, redactor)
    if work.kind in DEFAULT_SUITES:
        return _run_suite(ctx, work, workspace, artifacts_dir, out, cancel, redactor)
    return Outcome(
        "failed", f"stage kind {work.kind!r} without `run:` is not supported by this version of Instep"
    )


def _store_artifacts(ctx: Context, work: JobWork, log_path: Path, artifacts_dir: Path) -> list[Artifact]:
    """Upload the log and every file the step left in its artifacts directory."""
    prefix = f"runs/{work.run_id}/jobs/{work.job_id}/attempt-{work.attempt}"
    uploads = [(log_path, "log.txt", "log", "text/plain; charset=utf-8")]
    files = sorted(p for p in artifacts_dir.rglob("*") if p.is_file() and not p.is_symlink())
    for path in files[:MAX_COLLECTED_ARTIFACTS]:
        rel = path.relative_to(artifacts_dir).as_posix()
        content_type = "image/png" if rel.endswith(".png") else "application/octet-stream"
        uploads.append((path, f"files/{rel}", "file", content_type))
    rows: list[Artifact] = []
    for path, rel, kind, content_type in uploads:
        key = f"{prefix}/{rel}"
        size, sha = ctx.store.put_file(key, path)
        name = f"{work.key}/{rel.removeprefix('files/')}"
        rows.append(
            Artifact(
                run_id=work.run_id,
                job_id=work.job_id,
                name=name,
                kind=kind,
                store_key=key,
                size=size,
                sha256=sha,
                content_type=content_type,
            )
        )
    return rows


def execute_attempt(ctx: Context, job_id: int, attempt: int, worker: str) -> Outcome | None:
    """Run one attempt of a job end to end. Returns None when the delivery was stale."""
    work = _load_work(ctx, job_id, attempt, worker)
    if work is None:
        log.info("job %s attempt %s: stale delivery ignored", job_id, attempt)
        return None
    job_dir = ctx.settings.workspaces_dir / f"job-{work.job_id}"
    workspace = job_dir / "src"
    artifacts_dir = job_dir / "artifacts"
    log_path = job_dir / f"attempt-{attempt}.log"
    if job_dir.exists():
        shutil.rmtree(job_dir, ignore_errors=True)
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    out = JobLog(ctx, work.job_id, log_path)
    redactor = Redactor(work.secrets.values())
    cancel = threading.Event()
    stop_beats = threading.Event()

    def beat() -> None:
        while not stop_beats.wait(ctx.settings.heartbeat_seconds):
            try:
                with ctx.db.session() as s:
                    if heartbeat(s, work.job_id, attempt):
                        cancel.set()
                    s.commit()
            except Exception:  # a missed beat is retried on the next tick; the reconciler is the judge
                log.warning("job %s: heartbeat failed", work.job_id, exc_info=True)

    beats = threading.Thread(target=beat, name=f"heartbeat-{work.job_id}", daemon=True)
    beats.start()
    try:
        if attempt > 1:
            out.line(f"--- attempt {attempt} on {worker} ---")
        out.line(f"instep: {work.key} at {work.sha[:12]} ({work.ref}) on {worker}")
        try:
            mirror = ensure_commit(ctx.settings.mirrors_dir, work.project_id, work.repo_url, work.sha)
            checkout(mirror, work.sha, workspace)
        except WorkspaceError as exc:
            out.line(f"instep: {redactor(str(exc))}")
            outcome = Outcome("failed", redactor(str(exc)))
        else:
            env = _job_env(work, workspace, artifacts_dir)
            outcome = _run_step(ctx, work, workspace, artifacts_dir, env, out, cancel, redactor)
        out.line(f"instep: {work.key} {outcome.status}" + (f": {outcome.reason}" if outcome.reason else ""))
    except Exception as exc:  # an Instep bug must still end the job, with the reason visible
        log.exception("job %s crashed", work.job_id)
        outcome = Outcome(
            "failed", f"internal error in the worker: {type(exc).__name__}: {redactor(str(exc))}"
        )
        out.line(f"instep: {outcome.reason}")
    finally:
        stop_beats.set()
        out.close()
    rows = _store_artifacts(ctx, work, log_path, artifacts_dir)
    ctx.logs.close(work.job_id)
    with ctx.db.session() as s:
        s.add_all(rows)
        if outcome.comparisons is not None:
            from orchestrator.reviews import branch_of, store_comparisons

            job_row, run_row = s.get(Job, work.job_id), s.get(Run, work.run_id)
            if job_row is not None and run_row is not None and job_row.status == "running":
                store_comparisons(
                    s,
                    job_row,
                    run_row,
                    branch_of(work.ref, work.default_branch),
                    work.platform,
                    outcome.comparisons,
                )
        dispatches = finish_attempt(
            s,
            work.job_id,
            attempt,
            outcome.status,
            outcome.reason,
            outcome.exit_code,
            results=outcome.results,
        )
        s.commit()
    ctx.dispatcher.jobs(dispatches)
    shutil.rmtree(workspace, ignore_errors=True)
    return outcome
