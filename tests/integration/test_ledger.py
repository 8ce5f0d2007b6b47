"""The ledger test (Jepsen-style): Redis + PostgreSQL mode with three real `instep worker`
processes; 200 signed GitHub pushes while a chaos loop SIGKILLs a random worker's process group
every few seconds (and restarts it), restarts Redis empty once and restarts the API once. Then
the database is read as the ledger: every accepted delivery has exactly one run, every run ends,
no two attempts of a job overlapped; lost = 0, duplicated = 0. The counts are printed.

Redis here is a private `redis-server` on a free port (never the shared one), without
persistence, so a restart really comes back empty."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text

from orchestrator.webhooks import sign
from tests.conftest import PG_URL, Repo, _reset_postgres, processes_with_env, require_service
from tests.integration.harness import Instep, free_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PUSHES = 200
COMMITS = 20
WORKERS = 3
FINAL = ("succeeded", "failed", "canceled", "skipped")
PIPELINE = """\
version: 1
platforms: {{android: {{}}}}
stages:
  check:
    retries: 2
    run: echo "push {n} checked"
"""


class PrivateRedis:
    """A redis-server of this test's own on a free port, without persistence."""

    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.home = home
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        require_service("redis-server", binary is not None, "apt-get install redis-server")
        self.home.mkdir(parents=True, exist_ok=True)
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = (self.home / "redis.out").open("ab")
        self.proc = subprocess.Popen(
            args, cwd=self.home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        wait_for("the private redis-server", lambda: _pings(client), timeout=20)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def restart_empty(self) -> None:
        """SIGKILL and start again: without persistence every queued message is gone."""
        self.kill()
        self.start()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Instep, PrivateRedis]]:
    if not PG_URL:
        require_service("PostgreSQL", False, "set INSTEP_TEST_DATABASE_URL to run the ledger test")
    assert PG_URL is not None
    broker = PrivateRedis(tmp_path / "redis")
    broker.start()
    _reset_postgres(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    env = {
        "INSTEP_REDIS_URL": broker.url,
        "INSTEP_DATABASE_URL": PG_URL,
        "INSTEP_LOST_AFTER_SECONDS": "4",
        "INSTEP_RESEND_AFTER_SECONDS": "8",
    }
    if shutil.which("bwrap") is None:
        env["INSTEP_UNSANDBOXED_JOBS"] = "1"
    instep = Instep(tmp_path / "home", env)
    try:
        instep.serve()
        yield instep, broker
    finally:
        instep.stop()
        broker.kill()
        for pid in processes_with_env(f"INSTEP_WORKSPACE={tmp_path}"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


class Chaos:
    """Kills a random worker every few seconds (restarting it), Redis once and the API once."""

    def __init__(self, instep: Instep, broker: PrivateRedis, seed: int) -> None:
        self.instep, self.broker = instep, broker
        self.random = random.Random(seed)
        self.workers = {f"w{i}": self._start_worker(f"w{i}") for i in range(1, WORKERS + 1)}
        self.stop = threading.Event()
        self.counts: Counter[str] = Counter()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._loop, name="chaos", daemon=True)

    def _start_worker(self, name: str) -> subprocess.Popen[bytes]:
        return self.instep.start(
            name, "worker", "--queues", "default,android,ios,devices", "--name", f"{name}@ledger"
        )

    def _restart_api(self) -> None:
        for name, proc, _log in self.instep.procs:
            if name.startswith("serve"):
                _kill_group(proc)
        self.instep.start(
            f"serve-{self.counts['api restarts'] + 1}", "serve", "--port", str(self.instep.port)
        )

    def _loop(self) -> None:
        try:
            self._rampage()
        except Exception as exc:  # reported by the test, which then fails
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _rampage(self) -> None:
        started = time.monotonic()
        while not self.stop.wait(self.random.uniform(2.0, 4.0)):
            name = self.random.choice(sorted(self.workers))
            _kill_group(self.workers[name])
            self.counts["worker kills"] += 1
            self.workers[name] = self._start_worker(name)
            elapsed = time.monotonic() - started
            if elapsed > 12 and not self.counts["redis restarts"]:
                self.broker.restart_empty()
                self.counts["redis restarts"] += 1
            elif elapsed > 24 and not self.counts["api restarts"]:
                self._restart_api()
                self.counts["api restarts"] += 1

    def __enter__(self) -> Chaos:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


def _push(instep: Instep, secret: str, sha: str, delivery: str, n: int) -> dict[str, object]:
    """Delivers one push the way GitHub does: retried until it gets an answer below 500."""
    body = json.dumps(
        {
            "ref": "refs/heads/main",
            "before": "0" * 40,
            "after": sha,
            "repository": {"full_name": "acme/shop"},
            "pusher": {"name": f"dev{n % 7}"},
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(secret, body),
    }
    tries = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        tries += 1
        try:
            r = httpx.post(f"{instep.url}/api/webhooks/github", content=body, headers=headers, timeout=15)
        except httpx.TransportError:
            time.sleep(0.5)  # the API is restarting; GitHub retries later too
            continue
        if r.status_code < 500:
            return {"status": r.status_code, "answer": r.json(), "tries": tries}
        time.sleep(0.5)
    return {"status": None, "answer": None, "tries": tries}


def _ledger(url: str) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return {
                "deliveries": list(conn.execute(text("SELECT delivery_id, run_id FROM webhook_deliveries"))),
                "runs": list(conn.execute(text("SELECT id, status, reason FROM runs"))),
                "jobs": list(conn.execute(text("SELECT id, run_id, status, reason, attempts FROM jobs"))),
                "attempts": list(
                    conn.execute(
                        text(
                            "SELECT job_id, number, status, worker, started_at, finished_at FROM job_attempts"
                        )
                    )
                ),
            }
    finally:
        engine.dispose()


def _overlaps(attempts: list[tuple]) -> list[str]:  # type: ignore[type-arg]
    """Attempts of the same job whose [started, finished] intervals overlap (an open one runs on)."""
    by_job: dict[int, list[tuple]] = {}  # type: ignore[type-arg]
    for row in attempts:
        by_job.setdefault(row[0], []).append(row)
    found = []
    far = datetime.max.replace(tzinfo=None)
    for job_id, rows in by_job.items():
        rows.sort(key=lambda r: r[4])
        for a, b in zip(rows, rows[1:], strict=False):
            a_end = a[5].replace(tzinfo=None) if a[5] else far
            if b[4].replace(tzinfo=None) < a_end:
                found.append(f"job {job_id}: attempt {a[1]} ({a[3]}) and {b[1]} ({b[3]}) overlap")
    return found


def test_no_delivery_is_lost_or_duplicated_under_chaos(
    cluster: tuple[Instep, PrivateRedis], repo: Repo
) -> None:
    instep, broker = cluster
    assert PG_URL is not None
    secret = instep.cli_json("project", "add", "shop", "--repo", repo.url)["webhook_secret"]
    shas = [repo.commit({"instep.yml": PIPELINE.format(n=n)}, f"push {n}") for n in range(COMMITS)]
    deliveries = [str(uuid.uuid4()) for _ in range(PUSHES)]
    began = time.monotonic()

    with Chaos(instep, broker, seed=PUSHES) as chaos, ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(_push, instep, secret, shas[n % COMMITS], deliveries[n], n) for n in range(PUSHES)
        ]
        answers = dict(zip(deliveries, (f.result() for f in futures), strict=True))
        # Keep the chaos going a little after the last push so lost work has to be recovered.
        wait_for(
            "the API restart",
            lambda: chaos.counts["api restarts"] >= 1 or chaos.errors,
            timeout=120,
            every=0.5,
        )
    assert chaos.errors == []
    sent_for = time.monotonic() - began
    for name, proc in chaos.workers.items():
        assert proc.poll() is None, f"worker {name} is not running after the chaos"

    accepted = {d for d, a in answers.items() if a["status"] in (200, 201, 202)}

    def all_ended() -> dict | None:  # type: ignore[type-arg]
        ledger = _ledger(PG_URL)
        open_runs = [r for r in ledger["runs"] if r[1] not in FINAL]
        return None if open_runs else ledger

    try:
        ledger = wait_for("every run to end", all_ended, timeout=180, every=2)
    except AssertionError:
        ledger = _ledger(PG_URL)
    waited_for = time.monotonic() - began - sent_for

    runs_of: Counter[str] = Counter(d for d, run_id in ledger["deliveries"] if run_id is not None)
    runs = {r[0]: r for r in ledger["runs"]}
    unfinished = sorted(r[0] for r in runs.values() if r[1] not in FINAL)
    ended = {r[0] for r in runs.values() if r[1] in FINAL}
    # Lost: an accepted push that has no run, or whose run never ended.
    ended_for = {d for d, run_id in ledger["deliveries"] if run_id in ended}
    lost = sorted(accepted - ended_for)
    duplicated = sorted(d for d, c in runs_of.items() if c > 1)
    stuck_jobs = [j for j in ledger["jobs"] if j[2] in ("queued", "running", "pending")]
    overlaps = _overlaps(ledger["attempts"])
    statuses = Counter(r[1] for r in runs.values())
    reasons = Counter(r[2] for r in runs.values() if r[1] != "succeeded")
    answer_kinds = Counter(
        str(a["answer"]["status"]) if a["answer"] else "no answer" for a in answers.values()
    )
    retried = sum(1 for a in answers.values() if a["tries"] > 1)
    attempts_per_job = Counter(j[4] for j in ledger["jobs"])
    resent: Counter[str] = Counter()
    for name, _proc, log in instep.procs:
        if name.startswith("serve"):
            for line in log.read_text(errors="replace").splitlines():
                if "re-sent" in line and (
                    m := re.search(r"re-sent (\d+) lost plan and (\d+) lost job", line)
                ):
                    resent["plans"] += int(m[1])
                    resent["jobs"] += int(m[2])

    print(
        "\nledger:"
        f"\n  pushes sent {PUSHES}, accepted {len(accepted)}, answers {dict(answer_kinds)}, "
        f"retried by the sender {retried}"
        f"\n  chaos: {dict(chaos.counts)} over {sent_for:.0f} s; then waited {waited_for:.0f} s"
        f"\n  lost messages re-sent by the sweeper: {dict(resent) or 0}"
        f"\n  runs {len(runs)}: {dict(statuses)}; not ended {len(unfinished)}"
        f"\n  jobs {len(ledger['jobs'])}, attempts per job {dict(sorted(attempts_per_job.items()))}, "
        f"attempt rows {len(ledger['attempts'])}, overlapping attempts {len(overlaps)}"
        f"\n  lost = {len(lost)} (no run, or a run that never ended), duplicated = {len(duplicated)}"
        f"\n  reasons of runs that did not succeed: {dict(reasons.most_common(5))}"
        f"\n  reasons of failed jobs: {dict(Counter(str(j[3])[:60] for j in ledger['jobs'] if j[2] == 'failed'))}"
    )
    assert len(accepted) == PUSHES, (
        f"deliveries never accepted: {[d for d in deliveries if d not in accepted]}"
    )
    assert unfinished == [] and stuck_jobs == [], f"runs not ended: {unfinished[:10]}; jobs: {stuck_jobs[:5]}"
    assert lost == [] and duplicated == []
    assert len(runs) == len(accepted), "a run that no delivery accounts for"
    assert overlaps == []
    assert all(r[2] for r in runs.values() if r[1] != "succeeded"), "a run ended without a reason"
    # Chaos may use up a job's attempts (`worker lost`); nothing else may fail a run.
    job_failures = Counter(str(j[3]).split(" (")[0] for j in ledger["jobs"] if j[2] == "failed")
    assert set(job_failures) <= {"worker lost"}, job_failures
    assert statuses["succeeded"] >= PUSHES // 2, statuses
