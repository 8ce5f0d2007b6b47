"""Dashboard benchmark.

1. Server-side rendering (embedded mode, in-process): the run page of a run with 200 jobs and
   the review page of a run with 200 comparisons; median time and HTML size (before images),
   against the API's JSON for the same run measured in the same process.
   Targets: median < 150 ms, HTML < 100 KB.
2. Live logs: webhook answer latency of a real `instep serve` while 50 viewers follow a growing
   job log over server-sent events, against the same pushes with no viewer.
   Target: p50 and p99 slower by at most 10 %.

    python bench/dashboard.py [--repeat 30] [--viewers 50] [--rate 20] [--seconds 8] [--rounds 10]

Everything talks to 127.0.0.1 only, and every loop is bounded in count and time."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402

from bench.pushes import PIPELINE, percentile, send_pushes  # noqa: E402
from dashboard.livelogs import BATCH as LIVE_BATCH  # noqa: E402
from tests.conftest import Repo, make_settings  # noqa: E402
from tests.integration.harness import Instep  # noqa: E402


def _png(n: int, shift: int = 0) -> bytes:
    img = Image.new("RGB", (90, 160), (246, 247, 251))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 89, 20), fill=(47, 111, 237))
    draw.rectangle((10 + shift, 60, 70 + shift, 80), fill=(29, 35, 48))
    draw.text((6, 30), f"screen {n}", fill=(29, 35, 48))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def build_site(home: Path):  # type: ignore[no-untyped-def]
    """An in-process app with the dashboard, a run of 200 jobs and a run of 200 comparisons."""
    from fastapi.testclient import TestClient

    from dashboard import install
    from orchestrator.api import create_app
    from orchestrator.artifacts import LocalArtifactStore
    from orchestrator.baselines import branch_of, repository
    from orchestrator.context import Context
    from orchestrator.db.models import Job
    from orchestrator.db.session import Database, upgrade
    from orchestrator.logbus import FileLogBus
    from orchestrator.projects import create_project
    from orchestrator.runs import create_run
    from orchestrator.scheduler import advance, finish_attempt, start_attempt
    from orchestrator.sealing import Sealer
    from orchestrator.stages.screenshot_comparison import compare_captures, store_comparisons
    from orchestrator.tokens import create_token
    from orchestrator.users import create_user
    from screenshots.baselines import BaselineKey
    from tests.dashboard.conftest import RecordingDispatcher, csrf_of

    settings = make_settings(home)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    store = LocalArtifactStore(Path(settings.artifacts))
    ctx = Context(
        settings, db, store, FileLogBus(settings.logs_dir), RecordingDispatcher(), Sealer(settings.secret_key)
    )
    app = create_app(ctx, extensions=[install])
    with db.session() as s:
        create_user(s, "qa", "qa", "bench-password")
        token = create_token(s, "qa", "bench")[1]
        project = create_project(
            s, sealer=ctx.sealer, name="shop", repo_url="https://github.com/acme/shop.git"
        )
        run = create_run(s, project, trigger="push", ref="refs/heads/main", sha="a" * 40)
        jobs = []
        for stage in range(10):
            for platform in ("android", "ios"):
                for shard in range(10):
                    job = Job(
                        run_id=run.id,
                        key=f"stage{stage}-{platform}-{shard}",
                        stage=f"stage{stage}",
                        kind="run",
                        platform=platform,
                        shard=shard,
                        shard_count=10,
                        queue="default",
                        timeout_s=600,
                        needs=[],
                        spec={},
                    )
                    s.add(job)
                    jobs.append(job)
        s.flush()
        advance(s, run.id)
        for n, job in enumerate(jobs):
            start_attempt(s, job.id, 1, "bench")
            results = {
                "tests": [
                    {
                        "suite": "s",
                        "name": f"test_{n}_{k}",
                        "classname": "c",
                        "duration_s": 0.1,
                        "status": "failed" if (n + k) % 37 == 0 else "passed",
                        "message": "boom" if (n + k) % 37 == 0 else None,
                    }
                    for k in range(5)
                ]
            }
            finish_attempt(
                s,
                job.id,
                1,
                "succeeded" if n % 17 else "failed",
                None if n % 17 else "1 test failed",
                results=results,
            )
        s.commit()
        jobs_run = run.id
    repo = repository(store, "main")
    captured = {}
    for n in range(200):
        name = f"{'pixel-8' if n % 2 else 'iphone-15'}/en-US/screen-{n:03d}.png"
        if n < 150:
            repo.promote(
                BaselineKey("shop", "all", name.split("/")[0], "en-US", f"screen-{n:03d}"),
                "main",
                _png(n),
                approved_by="bench",
                run_id="0",
            )
        captured[name] = _png(n, shift=6 if n < 100 else 0)
    with db.session() as s:
        run = create_run(s, project, trigger="push", ref="refs/heads/main", sha="b" * 40)
        job = Job(
            run_id=run.id,
            key="screenshots",
            stage="screenshots",
            kind="screenshots",
            queue="devices",
            timeout_s=600,
            needs=[],
            spec={"devices": ["pixel-8", "iphone-15"]},
        )
        s.add(job)
        s.flush()
        advance(s, run.id)
        start_attempt(s, job.id, 1, "bench")
        prepared, verdict = compare_captures(
            store,
            project="shop",
            platform=None,
            branch=branch_of(run.ref, "main"),
            default_branch="main",
            captured=captured,
        )
        store_comparisons(s, job, run, "main", None, prepared)
        finish_attempt(s, job.id, 1, verdict.state.value, verdict.reason)
        s.commit()
        review_run = run.id
    client = TestClient(app, headers={"Accept": "text/html"})
    page = client.get("/login")
    client.post("/login", data={"name": "qa", "password": "bench-password", "csrf_token": csrf_of(page.text)})
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    return client, api, jobs_run, review_run, db


def time_get(client, path: str, repeat: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    client.get(path)  # warm caches (templates, pools)
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        r = client.get(path)
        times.append(time.perf_counter() - started)
        assert r.status_code == 200, (path, r.status_code)
        size = len(r.content)
    return statistics.median(times) * 1000, size


def bench_render(repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="instep-bench-dashboard-") as tmp:
        client, api, jobs_run, review_run, db = build_site(Path(tmp) / "home")
        cases = [
            ("run page, 200 jobs", f"/runs/{jobs_run}", f"/api/runs/{jobs_run}"),
            (
                "review page, 200 comparisons",
                f"/runs/{review_run}/review",
                f"/api/runs/{review_run}/comparisons",
            ),
        ]
        first = re.search(r'href="/comparisons/(\d+)"', client.get(f"/runs/{review_run}/review").text).group(
            1
        )
        cases.append(
            ("one comparison of 200", f"/comparisons/{first}", f"/api/runs/{review_run}/comparisons")
        )
        print(
            f"server-side rendering, embedded mode, median of {repeat} (targets: < 150 ms, < 100 KB of HTML)"
        )
        print(f"{'page':32} {'ms':>8} {'KB':>8} {'API JSON ms':>12} {'JSON KB':>8} {'page/API':>9}  verdict")
        for label, path, api_path in cases:
            ms, size = time_get(client, path, repeat)
            api_ms, api_size = time_get(api, api_path, repeat)
            ok = ms < 150 and size < 100 * 1024
            print(
                f"{label:32} {ms:8.1f} {size / 1024:8.1f} {api_ms:12.1f} {api_size / 1024:8.1f} {ms / api_ms:8.2f}x  {'ok' if ok else 'MISSED'}"
            )
        db.dispose()


# The seeded project is acme/shop; the pushes go to a project of their own.
BENCH_REPO = "acme/bench"


def _pushes(instep: Instep, secret: str, sha: str, rate: float, seconds: float) -> list[float]:
    latencies, statuses = send_pushes(
        instep.url, secret, sha, rate, seconds, workers=16, repository=BENCH_REPO
    )
    # Every push must reach planning (a refused one measures only the signature check).
    assert set(statuses) <= {201, 202}, sorted(set(statuses))
    return latencies


async def _viewers(url: str, cookie: str, job_id: int, count: int, seconds: float) -> None:
    """Run in a process of its own (so the viewers' parsing never competes with the pushes for
    this process's GIL): `count` SSE viewers of one job's log, each from its first line; prints
    `ready` once every viewer has caught up with the log (the backlog they all fetch on opening is
    not part of following it), then the number of events received when a line arrives on stdin
    (or `seconds` pass)."""
    seen = [0] * count
    caught_up = [False] * count
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(10, read=60),
        cookies={"instep_session": cookie},
        limits=httpx.Limits(max_connections=count + 4),
    ) as client:

        async def one(n: int) -> None:
            last_id = first = None
            async with client.stream("GET", f"{url}/live/jobs/{job_id}/log?max_seconds={seconds + 30}") as r:
                async for line in r.aiter_lines():
                    if line.startswith("id:"):
                        seen[n] += 1
                        last_id = int(line[3:].strip())
                    elif line.startswith("data:") and (found := re.search(r'"from": (\d+)', line)):
                        first = int(found.group(1))
                    elif not line and last_id is not None and first is not None:
                        # A batch shorter than a full one reached the end of the log.
                        caught_up[n] = caught_up[n] or last_id - first + 1 < LIVE_BATCH

        tasks = [asyncio.create_task(one(n)) for n in range(count)]
        stop = asyncio.ensure_future(asyncio.to_thread(sys.stdin.readline))  # the parent says when
        deadline = time.monotonic() + seconds
        ready = False
        while time.monotonic() < deadline and not stop.done():
            if not ready and all(caught_up):
                await asyncio.sleep(1.0)  # one more interval: every viewer is following now
                print("ready", flush=True)
                ready = True
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(f"events {sum(seen)}", flush=True)


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its waited-for children (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def bench_live(viewers: int, rate: float, seconds: float, rounds: int) -> None:
    from orchestrator.artifacts import LocalArtifactStore
    from orchestrator.db.session import Database, upgrade
    from orchestrator.logbus import FileLogBus
    from orchestrator.settings import Settings
    from tests.dashboard.seed import seed

    with tempfile.TemporaryDirectory(prefix="instep-bench-live-") as tmp:
        instep = Instep(Path(tmp) / "home", {"INSTEP_LOST_AFTER_SECONDS": "3600"})
        settings = Settings.from_env(instep.env)
        upgrade(settings.database_url)
        db = Database(settings.database_url)
        logs = FileLogBus(settings.logs_dir)
        seeded = seed(db, LocalArtifactStore(Path(settings.artifacts)), logs, settings.secret_key, xss=False)
        db.dispose()
        instep.serve()
        try:
            repo = Repo(Path(tmp) / "repo")
            secret = instep.cli_json("project", "add", "bench", "--repo", repo.url, "--match", BENCH_REPO)[
                "webhook_secret"
            ]
            sha = repo.commit({"instep.yml": PIPELINE}, branch="bench")
            with httpx.Client(base_url=instep.url) as web:
                page = web.get("/login")
                csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
                web.post("/login", data={"name": "dev", "password": "dev-password-1", "csrf_token": csrf})
                cookie = web.cookies["instep_session"]
            job = seeded.jobs["running"]
            _pushes(instep, secret, sha, rate, 2)  # warm up
            # The log grows all along (20 lines a second, as a busy build prints); the phases
            # alternate so that the machine's other load falls on both alike.
            writer_stop = threading.Event()

            def write_log() -> None:
                n = 0
                while not writer_stop.wait(0.05):
                    logs.append(job, [f"\x1b[32mstep {n}\x1b[0m compiling module {n} of many"])
                    n += 1

            writer = threading.Thread(target=write_log)
            writer.start()
            base: list[float] = []
            watched: list[float] = []
            lines = 0
            server = next(proc for name, proc, _log in instep.procs if name == "serve").pid
            cpu = {"server, no viewers": 0.0, "server, viewers": 0.0, "viewers' own process": 0.0}
            try:
                for _round in range(rounds):
                    before = _cpu_seconds(server)
                    base += _pushes(instep, secret, sha, rate, seconds)
                    cpu["server, no viewers"] += _cpu_seconds(server) - before
                    viewer_proc = subprocess.Popen(
                        [
                            sys.executable,
                            __file__,
                            "--viewers-process",
                            instep.url,
                            cookie,
                            str(job),
                            str(viewers),
                            str(seconds + 60),
                        ],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                    try:
                        assert viewer_proc.stdout is not None
                        first = viewer_proc.stdout.readline().strip()
                        assert first == "ready", f"viewers did not start: {first!r}"
                        before, viewers_before = _cpu_seconds(server), _cpu_seconds(viewer_proc.pid)
                        watched += _pushes(instep, secret, sha, rate, seconds)
                        cpu["server, viewers"] += _cpu_seconds(server) - before
                        cpu["viewers' own process"] += _cpu_seconds(viewer_proc.pid) - viewers_before
                    finally:
                        out, _ = viewer_proc.communicate("stop\n", timeout=60)
                    lines += int(out.split()[-1]) if out.strip().startswith("events") else 0
            finally:
                writer_stop.set()
                writer.join(10)
        finally:
            instep.stop()
    print(
        f"\nwebhook answers at {rate:.0f}/s, {rounds} rounds of {seconds:.0f} s without then with {viewers} live-log viewers (target: at most 10 % slower)"
    )
    print(f"{'phase':28} {'pushes':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
    for label, values in (("no viewers", base), (f"{viewers} viewers", watched)):
        print(
            f"{label:28} {len(values):7d} {percentile(values, 0.5) * 1000:8.1f} {percentile(values, 0.9) * 1000:8.1f} {percentile(values, 0.99) * 1000:8.1f}"
        )
    p50 = percentile(watched, 0.5) / percentile(base, 0.5)
    p99 = percentile(watched, 0.99) / percentile(base, 0.99)
    print(
        f"ratio with/without viewers: p50 {p50:.2f}x, p99 {p99:.2f}x  ({'ok' if p50 <= 1.10 and p99 <= 1.10 else 'MISSED'}); "
        f"viewers received {lines} log events in total"
    )
    print(
        "CPU seconds over the pushing phases: "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items())
        + f" (2 cores x {rounds * seconds:.0f} s per phase)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=8, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--only", choices=["render", "live"], default=None)
    parser.add_argument("--viewers-process", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.viewers_process:
        url, cookie, job, count, seconds = args.viewers_process
        asyncio.run(_viewers(url, cookie, int(job), int(count), float(seconds)))
        return
    if args.only in (None, "render"):
        bench_render(args.repeat)
    if args.only in (None, "live"):
        bench_live(args.viewers, args.rate, args.seconds, args.rounds)


if __name__ == "__main__":
    main()
