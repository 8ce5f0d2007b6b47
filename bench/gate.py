"""Gate evaluation for a project with 10,000 past releases: the database load of one release's
facts plus the pure evaluation, as `GET /api/releases/{id}` and every gate settlement do it.
The alternative measured in the same run is the same load with the approvals' release index
dropped (what the index buys), and the pure evaluation alone (what the database costs).

    python bench/gate.py [--releases 10000] [--evaluations 300] [--database-url URL]

SQLite in a temporary directory unless a URL is given (PostgreSQL: an empty database)."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orchestrator.db.models import Job, Project, Run  # noqa: E402
from orchestrator.db.session import Database, upgrade  # noqa: E402
from orchestrator.releases.gate import evaluate_release  # noqa: E402
from orchestrator.releases.models import (  # noqa: E402
    Approval,
    AuditEvent,
    GateEvaluation,
    Release,
    ReleasePlatform,
)
from orchestrator.releases.settlement import checklists, load_facts  # noqa: E402
from orchestrator.spec.release import ReleaseSpec  # noqa: E402

PLATFORMS = ("android", "ios")
STAGES = ("unit", "build", "acceptance", "gate", "submit")
POLICY = ReleaseSpec(
    platforms_together=True,
    freeze=("Fri 16:00-Mon 08:00 Europe/Berlin", "2026-12-20..2027-01-03"),
    soak=3600,
).model_dump(mode="json")


def fill(db: Database, releases: int) -> int:
    """`releases` past releases (runs, jobs, platforms, approvals, evaluations, audit) plus one
    active release at its gate; returns the active release's id."""
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    with db.session() as s:
        s.execute(
            insert(Project),
            [
                {
                    "name": "bench",
                    "repo_url": "file:///bench.git",
                    "match_name": "acme/bench",
                    "webhook_secret": "x",
                    "secrets": {},
                }
            ],
        )
        project_id = s.scalar(select(Project.id))
        batch = 1000
        for start in range(0, releases + 1, batch):
            ids = range(start + 1, min(start + batch, releases + 1) + 1)
            s.execute(
                insert(Run),
                [
                    {
                        "id": i,
                        "project_id": project_id,
                        "number": i,
                        "trigger": "push",
                        "ref": "refs/heads/main",
                        "sha": f"{i:040x}",
                        "status": "succeeded",
                        "created_by": "carl",
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            s.execute(
                insert(Job),
                [
                    {
                        "run_id": i,
                        "key": f"{stage}:{p}",
                        "stage": stage,
                        "kind": stage,
                        "platform": p,
                        "needs": [f"{STAGES[k - 1]}:{p}"] if k else [],
                        "queue": "default",
                        "status": "succeeded",
                        "timeout_s": 600,
                        "spec": {},
                        "finished_at": now,
                    }
                    for i in ids
                    for k, stage in enumerate(STAGES)
                    for p in PLATFORMS
                ],
            )
            s.execute(
                insert(Release),
                [
                    {
                        "id": i,
                        "project_id": project_id,
                        "run_id": i,
                        "version": f"1.{i // 100}.{i % 100}",
                        "state": "finished",
                        "created_by": "bob",
                        "policy": POLICY,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
            s.execute(
                insert(ReleasePlatform),
                [
                    {
                        "release_id": i,
                        "platform": p,
                        "state": "released",
                        "build_number": i,
                        "candidate": [
                            {"name": f"build:{p}/app.tar.gz", "sha256": "0" * 64, "size": 1, "artifact_id": i}
                        ],
                        "soak_started_at": now - timedelta(hours=2),
                        "updated_at": now,
                    }
                    for i in ids
                    for p in PLATFORMS
                ],
            )
            s.execute(
                insert(Approval),
                [
                    {
                        "release_id": i,
                        "role": role,
                        "person": person,
                        "via": "token",
                        "decision": "approve",
                        "comment": "",
                        "override": False,
                        "at": now,
                    }
                    for i in ids
                    for role, person in (("qa", "quinn"), ("release_manager", "ana"))
                ],
            )
            s.execute(
                insert(GateEvaluation),
                [
                    {"release_id": i, "platform": p, "passed": True, "facts": {}, "checklist": [], "at": now}
                    for i in ids
                    for p in PLATFORMS
                ],
            )
            s.execute(
                insert(AuditEvent),
                [
                    {
                        "project_id": project_id,
                        "release_id": i,
                        "person": "ana",
                        "role": "release_manager",
                        "action": "approved",
                        "subject": "release",
                        "details": {},
                        "at": now,
                    }
                    for i in ids
                ],
            )
        active = releases + 1
        s.execute(text("UPDATE releases SET state = 'active' WHERE id = :i"), {"i": active})
        s.execute(
            text("UPDATE release_platforms SET state = 'waiting_for_gate' WHERE release_id = :i"),
            {"i": active},
        )
        s.execute(
            text("UPDATE jobs SET status = 'waiting' WHERE run_id = :i AND kind = 'gate'"), {"i": active}
        )
        s.execute(
            text("UPDATE jobs SET status = 'pending' WHERE run_id = :i AND kind = 'submit'"), {"i": active}
        )
        s.execute(
            text("DELETE FROM release_approvals WHERE release_id = :i AND role = 'release_manager'"),
            {"i": active},
        )
        s.commit()
    return active


def per_evaluation_ms(db: Database, release_id: int, count: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per evaluation (CPU time is the fairer figure on a
    machine shared with other work; wall time includes waiting for a core and for SQLite)."""
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    wall, cpu = [], []
    with db.read_session() as s:
        for _ in range(count):
            s.expire_all()
            start, start_cpu = time.perf_counter(), time.thread_time()
            release = s.get(Release, release_id)
            assert release is not None
            run = s.get(Run, release.run_id)
            assert run is not None
            lists = checklists(s, run, release, now)
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    assert not any(c.passed for c in lists.values()), "the benchmark release waits for its release manager"
    return wall, cpu


def pure_ms(db: Database, release_id: int, count: int) -> list[float]:
    """CPU milliseconds of the pure evaluation alone."""
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    with db.read_session() as s:
        release = s.get(Release, release_id)
        assert release is not None
        facts = load_facts(s, s.get(Run, release.run_id), release, now)  # type: ignore[arg-type]
    times = []
    for _ in range(count):
        start = time.thread_time()
        evaluate_release(facts)
        times.append((time.thread_time() - start) * 1000)
    return times


# The index the gate's per-release reads rely on beyond unique constraints (jobs are found by
# uq_job_key's run_id prefix, platforms by uq_release_platform's release_id prefix).
INDEXES = (("ix_release_approvals_release", "release_approvals", "release_id, id"),)


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"{name:52} median {statistics.median(values):7.3f} ms   p95 {p95:7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=10_000)
    parser.add_argument("--evaluations", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database(url)
        started = time.perf_counter()
        release_id = fill(db, args.releases)
        print(
            f"bench/gate: {args.releases:,} past releases loaded in {time.perf_counter() - started:.1f} s ({db.engine.dialect.name})"
        )
        indexed, indexed_cpu = per_evaluation_ms(db, release_id, args.evaluations)
        pure = pure_ms(db, release_id, args.evaluations * 10)
        with db.engine.begin() as conn:
            for name, _table, _cols in INDEXES:
                conn.execute(text(f"DROP INDEX {name}"))
        unindexed, unindexed_cpu = per_evaluation_ms(db, release_id, max(20, args.evaluations // 10))
        db.dispose()
    print(summary("gate evaluation, wall (DB load + pure checks)", indexed))
    print(summary("gate evaluation, CPU", indexed_cpu))
    print(summary("  of which the pure evaluation, CPU", pure))
    print(summary("alternative: approvals scanned without their index, wall", unindexed))
    print(summary("alternative: approvals scanned without their index, CPU", unindexed_cpu))
    ratio = statistics.median(unindexed_cpu) / statistics.median(indexed_cpu)
    verdict = "under" if statistics.median(indexed_cpu) < 20 else "OVER"
    print(
        f"the index makes gate evaluation {ratio:.1f}x cheaper in CPU; median CPU {verdict} the 20 ms target"
    )


if __name__ == "__main__":
    main()
