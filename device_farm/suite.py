"""The acceptance-suite runner (imperative shell): collect the tests, plan shards from recorded
durations, run each shard as a pytest subprocess on a leased device with its own Appium server,
retry failures, classify flaky tests and record durations.

This is what `instep suite run` and the pipeline's `acceptance` / `screenshots` jobs call."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from device_farm.appium_server import AppiumError, AppiumLauncher, AppiumServer
from device_farm.backends import Backend, BackendError, create_backend
from device_farm.backends.aws_device_farm import (
    AwsProfile,
    DeviceFarm,
    create_client,
    run_suite_on_device_farm,
)
from device_farm.clock import Clock, SystemClock
from device_farm.commands import CommandRunner, ProcessCommandRunner
from device_farm.durations import DurationStore
from device_farm.leases import Heartbeat, LeaseError, LeaseStore, acquire_any
from device_farm.outcomes import Attempt, Final, Status, TestResult, needs_retry, verdict
from device_farm.profiles import DeviceProfile, Inventory
from device_farm.pytest_plugin import SuiteSession
from device_farm.reports import ShardReport, SuiteReport
from device_farm.results import JUnitError, parse_collected, read_shard_results
from device_farm.sharding import lpt, plan_shards, predicted_durations
from device_farm.static_site import StaticSite
from toolrun.process import run_process
from toolrun.sandbox import Sandbox

log = logging.getLogger(__name__)


class SuiteError(Exception):
    """The suite could not run at all (bad path, collection error, unknown profile)."""


@dataclass(frozen=True)
class SuiteRequest:
    suite: str
    path: Path
    devices: tuple[str, ...]
    shards: int | None = None  # default: one per device
    retries: int = 0
    project: str = "default"
    quarantined_tests: frozenset[str] = frozenset()
    fail_on_flaky: bool = False
    # A directory to serve on 127.0.0.1 or a URL; given to the tests as INSTEP_APP_URL.
    app: str | None = None
    pytest_args: tuple[str, ...] = ()
    shard_timeout_s: float = 1800.0
    boot_timeout_s: float = 300.0
    lease_ttl_s: float = 60.0
    lease_wait_s: float = 600.0
    # The whole environment of the test processes, decided by the caller (a pipeline passes the
    # stage's `env:` and the project's secrets; the CLI passes `developer_environment`). The
    # runner adds only PYTHONUNBUFFERED and the INSTEP_* variables of the shard's session.
    # None keeps the old default for callers not yet passing it: this process's environment
    # minus INSTEP_*.
    env: Mapping[str, str] | None = None

    def test_environment(self) -> dict[str, str]:
        base = dict(self.env) if self.env is not None else developer_environment(os.environ)
        return base | {"PYTHONUNBUFFERED": "1"}


BackendFactory = Callable[[DeviceProfile, int, Path], Backend]
DeviceFarmFactory = Callable[[AwsProfile], DeviceFarm]
REMOTE_BACKENDS = ("aws-device-farm",)


@dataclass
class SuiteContext:
    """The runner's outside world; tests replace parts of it."""

    inventory: Inventory
    leases: LeaseStore
    durations: DurationStore
    artifacts_dir: Path
    appium: AppiumLauncher | None
    runner: CommandRunner = field(default_factory=ProcessCommandRunner)
    clock: Clock = field(default_factory=SystemClock)
    on_line: Callable[[str], None] = lambda line: None
    cancel: threading.Event | None = None
    holder: str = field(default_factory=lambda: f"suite-{uuid.uuid4().hex[:8]}")
    python: str = sys.executable
    backend_factory: BackendFactory | None = None
    # AWS Device Farm adapters per profile (tests give one with a stubbed client).
    device_farm_factory: DeviceFarmFactory | None = None
    # Relative paths in device profiles (an AWS profile's `app:`) are taken from here.
    base_dir: Path = field(default_factory=Path.cwd)
    # Where the tests' pytest processes run (the orchestrator's job sandbox); Appium servers and
    # browsers stay outside it and are reached on loopback.
    sandbox: Sandbox | None = None

    def device_farm(self, profile: AwsProfile) -> DeviceFarm:
        if self.device_farm_factory is not None:
            return self.device_farm_factory(profile)
        return DeviceFarm(create_client(profile.region), self.clock)

    def backend(self, profile: DeviceProfile, slot: int, log_dir: Path) -> Backend:
        if self.backend_factory is not None:
            return self.backend_factory(profile, slot, log_dir)
        return create_backend(profile, slot, runner=self.runner, clock=self.clock, log_dir=log_dir)


@dataclass(frozen=True)
class _ShardJob:
    round: int
    index: int
    tests: tuple[str, ...]
    predicted_s: float
    devices: tuple[DeviceProfile, ...]  # in order of preference


def collect_tests(request: SuiteRequest, ctx: SuiteContext) -> list[str]:
    lines: list[str] = []
    result = run_process(
        [ctx.python, "-m", "pytest", "--collect-only", "-q", "-p", "device_farm.pytest_plugin",
         "-p", "no:cacheprovider", "--rootdir", str(request.path), *request.pytest_args, str(request.path)],
        cwd=request.path, env=request.test_environment(), on_line=lines.append, timeout=300,
        cancel=ctx.cancel, sandbox=ctx.sandbox,
    )  # fmt: skip
    tests = parse_collected("\n".join(lines))
    if result.exit_code not in (0, 5) or (result.exit_code == 0 and not tests):
        tail = "\n".join(lines[-30:])
        raise SuiteError(f"collecting the tests in {request.path} failed (exit {result.exit_code}):\n{tail}")
    return tests


def developer_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What a suite started from a terminal sees: the developer's environment without Instep's own
    variables (the runner sets the session's INSTEP_* itself)."""
    return {k: v for k, v in environ.items() if not k.startswith("INSTEP_")}


def run_suite(request: SuiteRequest, ctx: SuiteContext) -> SuiteReport:
    """Run `request` and return its report. Raises SuiteError only when nothing could run; device,
    Appium and test problems end up in the report (as failing tests and `errors`)."""
    started = time.monotonic()
    if not request.path.is_dir():
        raise SuiteError(f"suite path {request.path} is not a directory")
    if not request.devices:
        raise SuiteError("no device profile given; pass --device PROFILE (see `instep farm devices`)")
    every = tuple(ctx.inventory.get(name) for name in request.devices)
    # Remote profiles run the whole suite on their own devices; local ones share it in shards.
    profiles = tuple(p for p in every if p.backend not in REMOTE_BACKENDS)
    try:
        remote = tuple(
            AwsProfile.from_profile(p, ctx.base_dir) for p in every if p.backend in REMOTE_BACKENDS
        )
    except BackendError as exc:
        raise SuiteError(str(exc)) from exc
    ctx.artifacts_dir.mkdir(parents=True, exist_ok=True)
    tests = collect_tests(request, ctx)
    if not tests:
        raise SuiteError(f"no tests were collected in {request.path}")
    recorded = ctx.durations.load(request.project)
    n_shards = (request.shards or len(profiles)) if profiles else 0
    plan = plan_shards(tests, recorded, n_shards) if profiles else None
    if plan is not None:
        ctx.on_line(
            f"suite {request.suite}: {len(tests)} tests on {len(plan.shards)} shard(s), predicted makespan "
            f"{plan.predicted_makespan_s:.1f} s ({len(plan.estimated)} without a recorded duration)"
        )
    attempts: dict[str, list[Attempt]] = {t: [] for t in tests if profiles}
    shard_reports: list[ShardReport] = []
    remote_results: list[TestResult] = []
    errors: list[str] = []

    with ExitStack() as stack:
        remote_pool = stack.enter_context(
            ThreadPoolExecutor(max_workers=max(len(remote), 1), thread_name_prefix="remote")
        )
        remote_runs = [
            remote_pool.submit(_run_remote, profile, n_shards + i, tests, request, ctx)
            for i, profile in enumerate(remote)
        ]
        app_url = request.app
        if app_url and Path(app_url).is_dir():
            app_url = stack.enter_context(StaticSite(Path(app_url).resolve())).url
        jobs = [
            _ShardJob(0, s.index, s.tests, s.predicted_s, _rotate(profiles, s.index))
            for s in (plan.shards if plan is not None else ())
            if s.tests
        ]
        for round_no in range(request.retries + 1 if jobs else 0):
            if round_no > 0:
                retry = [
                    t for t in tests
                    if needs_retry(attempts[t], request.retries, t in request.quarantined_tests)
                ]  # fmt: skip
                if not retry:
                    break
                predicted, _, _ = predicted_durations(retry, recorded)
                buckets = [b for b in lpt(predicted, min(len(retry), len(profiles))) if b]
                ctx.on_line(f"retry round {round_no}: {len(retry)} failed test(s)")
                jobs = [
                    # Start each retry shard on a different device than round 0 used, when possible.
                    _ShardJob(
                        round_no, i, tuple(b), sum(predicted[t] for t in b), _rotate(profiles, i + round_no)
                    )
                    for i, b in enumerate(buckets)
                ]
            with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="shard") as pool:
                outcomes = list(pool.map(lambda job: _run_shard(job, request, ctx, app_url), jobs))
            for report, shard_attempts in outcomes:
                shard_reports.append(report)
                if report.error and report.error not in errors:
                    errors.append(report.error)
                for test, attempt in shard_attempts.items():
                    attempts[test].append(attempt)
            if ctx.cancel is not None and ctx.cancel.is_set():
                errors.append("the suite was canceled")
                break
        for future in remote_runs:
            report, found = future.result()
            shard_reports.append(report)
            remote_results.extend(found)
            if report.error and report.error not in errors:
                errors.append(report.error)
        if ctx.cancel is not None and ctx.cancel.is_set() and "the suite was canceled" not in errors:
            errors.append("the suite was canceled")

    local_results = tuple(
        TestResult(t, tuple(attempts[t]), quarantined=t in request.quarantined_tests) for t in attempts
    )
    results = local_results + tuple(remote_results)
    passed_durations = {
        r.test_id: r.attempts[-1].duration_s for r in local_results if r.final in (Final.PASSED, Final.FLAKY)
    }
    if passed_durations:
        ctx.durations.record(request.project, passed_durations)
    final = verdict(results, fail_on_flaky=request.fail_on_flaky)
    return SuiteReport(
        suite=request.suite,
        results=results,
        shards=tuple(shard_reports),
        verdict=final,
        wall_s=time.monotonic() - started,
        errors=tuple(errors),
        artifacts_dir=str(ctx.artifacts_dir),
    )


def _run_remote(
    profile: AwsProfile, index: int, tests: Sequence[str], request: SuiteRequest, ctx: SuiteContext
) -> tuple[ShardReport, list[TestResult]]:
    """The whole suite on an AWS Device Farm profile, as one shard of round 0. A failure to
    package, upload or run becomes an error result for every test, like a device that did not boot."""
    started = time.monotonic()
    work_dir = ctx.artifacts_dir / "shards" / f"0-{index}"
    app = Path(request.app) if request.app and Path(request.app).is_file() else None
    quarantined = request.quarantined_tests

    def remote_id(test: str) -> str:
        return f"{profile.name}/{test}"

    try:
        run = run_suite_on_device_farm(
            profile, ctx.device_farm(profile), suite=request.path, test_ids=tests, work_dir=work_dir,
            runner=ctx.runner, python=ctx.python, app=app.resolve() if app else None, shard=index,
            pytest_args=request.pytest_args, cancel=ctx.cancel,
            on_line=ctx.on_line,
        )  # fmt: skip
    except BackendError as exc:
        ctx.on_line(f"aws {profile.name}: {exc}")
        failed = [
            TestResult(
                remote_id(t), (Attempt(Status.ERROR, 0.0, profile.name, index, str(exc)),), t in quarantined
            )
            for t in tests
        ]
        report = ShardReport(0, index, profile.name, tuple(tests), 0.0, 0.0, time.monotonic() - started,
                             str(exc), str(work_dir))  # fmt: skip
        return report, failed
    results = [
        TestResult(r.test_id, r.attempts, r.test_id.split("/", 2)[-1] in quarantined) for r in run.results
    ]
    actual = sum(a.duration_s for r in results for a in r.attempts)
    report = ShardReport(0, index, profile.name, tuple(r.test_id for r in results), 0.0, actual,
                         time.monotonic() - started, None, str(work_dir))  # fmt: skip
    return report, results


def _rotate(profiles: Sequence[DeviceProfile], by: int) -> tuple[DeviceProfile, ...]:
    k = by % len(profiles)
    return tuple(profiles[k:]) + tuple(profiles[:k])


def _all(tests: Sequence[str], status: Status, message: str, device: str, shard: int,
         artifacts: tuple[str, ...] = ()) -> dict[str, Attempt]:  # fmt: skip
    return {t: Attempt(status, 0.0, device, shard, message, artifacts) for t in tests}


def _run_shard(
    job: _ShardJob, request: SuiteRequest, ctx: SuiteContext, app_url: str | None
) -> tuple[ShardReport, dict[str, Attempt]]:
    started = time.monotonic()
    shard_dir = ctx.artifacts_dir / "shards" / f"{job.round}-{job.index}"
    shard_dir.mkdir(parents=True, exist_ok=True)

    def report(device: str, attempts: dict[str, Attempt], error: str | None = None) -> tuple[ShardReport, dict[str, Attempt]]:  # fmt: skip
        actual = sum(a.duration_s for a in attempts.values())
        return (
            ShardReport(job.round, job.index, device, job.tests, job.predicted_s, actual,
                        time.monotonic() - started, error, str(shard_dir)),
            attempts,
        )  # fmt: skip

    try:
        lease = acquire_any(
            ctx.leases, [(p.name, p.slots) for p in job.devices], ctx.holder, request.lease_ttl_s,
            wait_s=request.lease_wait_s, clock=ctx.clock,
        )  # fmt: skip
    except LeaseError as exc:
        return report("", _all(job.tests, Status.ERROR, str(exc), "", job.index), str(exc))
    profile = next(p for p in job.devices if p.name == lease.device)
    ctx.on_line(
        f"shard {job.round}-{job.index}: leased {profile.name} slot {lease.slot} for {len(job.tests)} test(s)"
    )
    backend: Backend | None = None
    server: AppiumServer | None = None
    try:
        with Heartbeat(ctx.leases, lease, every_s=max(request.lease_ttl_s / 3, 0.05)):
            try:
                backend = ctx.backend(profile, lease.slot, shard_dir)
                backend.prepare()
                backend.start(boot_timeout_s=request.boot_timeout_s)
                health = backend.health_check()
                quarantine = ctx.leases.record_health(profile.name, health.ok, health.reason)
                if not health.ok:
                    extra = f"; quarantined: {quarantine.reason}" if quarantine else ""
                    raise BackendError(
                        f"device {profile.name} failed its health check: {health.reason}{extra}"
                    )
                url = backend.remote_url()
                if url is None:
                    if ctx.appium is None:
                        raise AppiumError("no Appium installation configured; run scripts/install-appium.sh")
                    server = ctx.appium.start(ctx.runner, shard_dir, clock=ctx.clock)
                    url = server.url
            except (BackendError, AppiumError) as exc:
                ctx.on_line(f"shard {job.round}-{job.index}: {exc}")
                return report(
                    profile.name, _all(job.tests, Status.ERROR, str(exc), profile.name, job.index), str(exc)
                )
            session = SuiteSession(
                url, backend.capabilities(), profile.name, profile.locale, ctx.artifacts_dir, app_url
            )
            attempts, error = _run_pytest(job, request, ctx, session, server, shard_dir)
            return report(profile.name, attempts, error)
    finally:
        if server is not None:
            server.stop()
        if backend is not None:
            try:
                backend.stop()
            except BackendError as exc:
                ctx.on_line(f"shard {job.round}-{job.index}: stopping {profile.name} failed: {exc}")
        ctx.leases.release(lease)


def _run_pytest(
    job: _ShardJob,
    request: SuiteRequest,
    ctx: SuiteContext,
    session: SuiteSession,
    server: AppiumServer | None,
    shard_dir: Path,
) -> tuple[dict[str, Attempt], str | None]:
    junit = shard_dir / "junit.xml"
    label = f"[{job.round}-{job.index} {session.profile}]"
    appium_died: list[int] = []
    done = threading.Event()

    def watch_appium() -> None:
        while server is not None and not done.wait(0.2):
            code = server.exit_code()
            if code is not None:
                appium_died.append(code)
                ctx.on_line(f"{label} Appium server on port {server.port} exited with code {code}")
                return

    watcher = threading.Thread(target=watch_appium, daemon=True)
    watcher.start()
    with open(shard_dir / "pytest.log", "w") as pytest_log:

        def on_line(line: str) -> None:
            pytest_log.write(line + "\n")
            ctx.on_line(f"{label} {line}")

        result = run_process(
            [ctx.python, "-m", "pytest", "-p", "device_farm.pytest_plugin", "-p", "no:cacheprovider",
             "--rootdir", str(request.path), f"--junitxml={junit}", "-o", "junit_family=xunit2",
             "-q", *request.pytest_args, *job.tests],
            cwd=request.path, env=request.test_environment() | session.to_environ(), on_line=on_line,
            timeout=request.shard_timeout_s, cancel=ctx.cancel, sandbox=ctx.sandbox,
        )  # fmt: skip
    done.set()
    watcher.join(timeout=5)
    if server is not None and not appium_died and server.exit_code() is not None:
        appium_died.append(server.exit_code() or 0)
    appium_logs = tuple(str(p) for p in server.logs()) if server is not None else ()
    device, index = session.profile, job.index

    if result.timed_out or result.canceled:
        why = "timed out" if result.timed_out else "was canceled"
        msg = f"the shard {why} after {result.duration_s:.0f} s"
    else:
        msg = ""
    try:
        found = read_shard_results(junit, job.tests) if junit.exists() else None
    except JUnitError as exc:
        error = f"{exc}; the raw file is kept at {junit}"
        return _all(job.tests, Status.ERROR, error, device, index, (str(junit),)), error
    if found is None:
        tail = "\n".join(result.tail[-20:])
        error = msg or f"pytest wrote no JUnit report (exit {result.exit_code}):\n{tail}"
        return _all(job.tests, Status.ERROR, error, device, index, appium_logs), error

    attempts: dict[str, Attempt] = {}
    died = f"Appium server exited with code {appium_died[0]} during the suite" if appium_died else ""
    for test in job.tests:
        if test not in found:
            attempts[test] = Attempt(
                Status.ERROR, 0.0, device, index, msg or died or "no result in the JUnit report", appium_logs
            )
            continue
        status, seconds, message = found[test]
        if died and status in (Status.FAILED, Status.ERROR):
            # The device went away under the test: an infrastructure error, not a test failure.
            attempts[test] = Attempt(Status.ERROR, seconds, device, index, f"{died}: {message}", appium_logs)
        else:
            attempts[test] = Attempt(status, seconds, device, index, message)
    return attempts, (
        f"{died} (shard {job.round}-{job.index} on {device}; log: {', '.join(appium_logs)})"
        if died
        else msg or None
    )
