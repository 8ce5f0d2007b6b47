"""Orchestrator benchmark: webhook answer latency under a fixed rate of signed pushes, and the
scheduling overhead per job (job ready -> its task starting), in embedded and Redis modes.

    python bench/orchestrator.py [--rate 50] [--seconds 30] [--jobs 40] [--modes embedded,redis]

Everything talks to 127.0.0.1 only, and every loop is bounded in count and time."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pushes import PIPELINE, percentile, send_pushes  # noqa: E402
from tests.conftest import Repo  # noqa: E402
from tests.integration.harness import Instep, wait_for  # noqa: E402


def bench_webhooks(instep: Instep, repo: Repo, rate: float, seconds: float) -> dict[str, float]:
    secret = instep.cli_json("project", "add", "bench", "--repo", repo.url)["webhook_secret"]
    sha = repo.commit({"instep.yml": PIPELINE}, branch="bench")
    total = int(rate * seconds)
    latencies, statuses = send_pushes(instep.url, secret, sha, rate, seconds)
    created = sum(1 for s in statuses if s == 201)

    def all_recorded() -> bool:
        with instep.api() as api:
            runs, before = 0, None
            while True:
                page = api.get(
                    "/api/runs",
                    params={"project": "bench", "limit": 200, **({"before": before} if before else {})},
                ).json()
                runs += sum(1 for r in page["runs"] if r["status"] in ("skipped", "succeeded", "failed"))
                before = page["next_before"]
                if before is None:
                    return runs >= created

    wait_for("every run to be planned", all_recorded, timeout=600, every=2)
    return {
        "requests": total,
        "created": created,
        "errors": sum(1 for s in statuses if s != 201),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
    }


def bench_scheduling(instep: Instep, repo: Repo, jobs: int) -> dict[str, float]:
    """A chain of `jobs` trivial stages: each becomes ready when the previous one ends."""
    instep.cli("project", "add", "chain", "--repo", repo.url, "--match", "acme/chain")
    stages = "".join(
        f"  s{i}:\n    run: 'true'\n" + (f"    needs: [s{i - 1}]\n" if i else "") for i in range(jobs)
    )
    repo.commit({"instep.yml": f"version: 1\nplatforms: {{android: {{}}}}\nstages:\n{stages}"})
    run_id = instep.cli_json("run", "trigger", "--project", "chain", "--ref", "main")["id"]
    run = instep.wait_run(run_id, timeout=600)
    assert run["status"] == "succeeded", run
    queued_at: dict[str, datetime] = {}
    for event in run["events"]:
        if event["to_status"] == "queued":
            queued_at[event["subject"]] = datetime.fromisoformat(event["at"])
    overheads = [
        (datetime.fromisoformat(j["started_at"]) - queued_at[j["key"]]).total_seconds() * 1000
        for j in run["jobs"]
    ]
    return {
        "jobs": len(overheads),
        "median_ms": statistics.median(overheads),
        "p90_ms": percentile(overheads, 0.9),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--modes", default="embedded,redis")
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="PostgreSQL for Redis mode (emptied first!); pass '' to use SQLite there too",
    )
    args = parser.parse_args()
    results = {}
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory(prefix=f"instep-bench-{mode}-") as tmp:
            env = {}
            if mode == "redis":
                import redis

                redis.Redis.from_url("redis://127.0.0.1:6379/12").flushdb()
                env = {"INSTEP_REDIS_URL": "redis://127.0.0.1:6379/12"}
                # Distributed mode is meant for PostgreSQL; use the local server when it answers.
                if args.database_url:
                    from tests.conftest import _reset_postgres

                    _reset_postgres(args.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
                    env["INSTEP_DATABASE_URL"] = args.database_url
            instep = Instep(Path(tmp) / "home", env)
            instep.serve()
            if mode == "redis":
                instep.start(
                    "worker", "worker", "--queues", "default,android,ios,devices", "--concurrency", "2"
                )
            try:
                repo = Repo(Path(tmp) / "repo")
                hooks = bench_webhooks(instep, repo, args.rate, args.seconds)
                sched = bench_scheduling(instep, repo, args.jobs)
            finally:
                instep.stop()
            results[mode] = (hooks, sched)
    print(f"\nRedis mode database: {args.database_url or 'SQLite'}")
    print(f"webhooks: {args.rate:.0f}/s for {args.seconds:.0f} s (target p99 < 50 ms, no lost run)")
    print(f"{'mode':10} {'sent':>6} {'runs':>6} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for mode, (h, _s) in results.items():
        print(
            f"{mode:10} {h['requests']:6.0f} {h['created']:6.0f} {h['errors']:6.0f} {h['p50_ms']:8.1f} "
            f"{h['p99_ms']:8.1f} {h['max_ms']:8.1f}"
        )
    print("\nscheduling overhead: job queued -> task started (target median < 25 ms in Redis mode)")
    print(f"{'mode':10} {'jobs':>6} {'median ms':>10} {'p90 ms':>8}")
    for mode, (_h, s) in results.items():
        print(f"{mode:10} {s['jobs']:6.0f} {s['median_ms']:10.1f} {s['p90_ms']:8.1f}")
    if "embedded" in results and "redis" in results:
        print(
            f"\nratio redis/embedded: webhook p99 {results['redis'][0]['p99_ms'] / results['embedded'][0]['p99_ms']:.2f}x, "
            f"scheduling median {results['redis'][1]['median_ms'] / results['embedded'][1]['median_ms']:.2f}x"
        )


if __name__ == "__main__":
    main()
