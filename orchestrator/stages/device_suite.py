"""Running a device stage's pytest suite through `device_farm` (the suite adapter call): the
stage's suite folder and app in the checkout, the lease store a worker process shares, and the
summary lines and results the job shows. Imported only when a device stage runs."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from device_farm.appium_server import AppiumError, AppiumLauncher, find_appium
from device_farm.durations import JsonDurationStore
from device_farm.leases import InMemoryLeaseStore, LeaseError, LeaseStore, RedisLeaseStore
from device_farm.profiles import ProfileError, load_inventory
from device_farm.reports import SuiteReport, write_junit
from device_farm.suite import SuiteContext, SuiteError, SuiteRequest, run_suite
from orchestrator.context import Context
from orchestrator.stages.base import Attempt, Outcome

_LEASES_LOCK = threading.Lock()


def lease_store(ctx: Context) -> LeaseStore:
    """One lease store per service process: in-process in embedded mode, Redis when distributed."""
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


def run_device_suite(attempt: Attempt, *, default_suite: str, per_profile: bool) -> Outcome:
    """The stage's suite on its device profiles: split across `shards` leased devices in one
    session, or (`per_profile`) once on each profile so every profile sees every test."""
    job, out, redactor, cancel = attempt.job, attempt.log, attempt.redactor, attempt.cancel
    workspace = attempt.workspace.resolve()
    relative = job.spec.suite or default_suite
    suite_dir = (workspace / relative).resolve()
    if not suite_dir.is_relative_to(workspace) or not suite_dir.is_dir():
        return Outcome(
            "failed", f"no test suite folder {relative!r} in the repository (set the stage's `suite:`)"
        )
    app = job.spec.app
    if app and "://" not in app:
        app_dir = (workspace / app).resolve()
        if not app_dir.is_relative_to(workspace) or not app_dir.is_dir():
            return Outcome("failed", f"the stage's `app: {app}` is not a folder in the repository")
        app = str(app_dir)
    settings = attempt.ctx.settings
    artifacts_dir = attempt.artifacts_dir
    try:
        request = SuiteRequest(
            suite=job.kind,
            path=suite_dir,
            devices=job.spec.devices,
            shards=job.shard_count if job.shard_count > 1 else None,
            retries=job.spec.test_retries,
            project=attempt.work.project_name,
            app=app,
            shard_timeout_s=float(job.timeout_s),
            # The same environment policy as a `run:` step: the stage's `env:`, the project's
            # secrets (masked in the log) and Instep's variables, nothing else of the worker's.
            env=attempt.env,
        )
        suite_ctx = SuiteContext(
            inventory=load_inventory(settings.home / "devices.yml"),
            leases=lease_store(attempt.ctx),
            durations=JsonDurationStore(settings.home / "durations"),
            artifacts_dir=artifacts_dir,
            appium=AppiumLauncher(find_appium(settings.appium_home), settings.appium_home),
            on_line=lambda line: out.line(redactor(line)),
            cancel=cancel,
            holder=f"job-{attempt.work.job_id}-attempt-{attempt.work.attempt}",
            sandbox=attempt.sandbox,
        )
        reports: dict[str, SuiteReport] = {}
        if not per_profile:
            reports[""] = run_suite(request, suite_ctx)
        else:
            for device in request.devices:
                if cancel.is_set():
                    break
                reports[device] = run_suite(replace(request, devices=(device,), shards=None), suite_ctx)
                shards_dir = artifacts_dir / "shards"
                if shards_dir.is_dir():
                    shards_dir.rename(artifacts_dir / f"shards-{device}")
    except (SuiteError, ProfileError, AppiumError, LeaseError) as exc:
        return Outcome("failed", redactor(str(exc)))
    return _summarise(attempt, reports)


def _summarise(attempt: Attempt, reports: dict[str, SuiteReport]) -> Outcome:
    out, redactor = attempt.log, attempt.redactor
    reasons: list[str] = []
    results: dict[str, Any] = {"suites": {}}
    for device, report in reports.items():
        write_junit(report, attempt.artifacts_dir / (f"junit-{device}.xml" if device else "junit.xml"))
        results["suites"][device or attempt.job.kind] = report.to_json()
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
    if attempt.cancel.is_set():
        return Outcome("canceled", "canceled while the suite ran", results=results)
    if reasons:
        return Outcome("failed", redactor("; ".join(reasons[:3]))[:1000], results=results)
    return Outcome("succeeded", None, results=results)
