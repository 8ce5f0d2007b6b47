"""The gate re-evaluated without anyone acting: the clock crossing a freeze boundary or the end
of the soak time releases `submit` on the scheduler's next tick (the clock is injected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from orchestrator.db.models import Job
from orchestrator.releases import flows
from orchestrator.releases.models import GateEvaluation
from orchestrator.releases.service import System
from orchestrator.releases.settlement import settle_waiting_gates
from tests.releases.conftest import PIPELINE, Releases

FRIDAY_EVENING = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
MONDAY_MORNING = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # 08:00 in Berlin


def approved_release(releases: Releases, pipeline: str, at: datetime, **run) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A release cut and approved by QA and a release manager at `at`."""
    releases.commit(pipeline)
    run_id = releases.run_at_gate(**run)
    ctx = releases.api.ctx
    with ctx.db.session() as s:
        release, _ = flows.cut(
            ctx, s, run_id=run_id, version="4.2.0", who=System("bob", "release_manager"), now=at
        )
        for who in (System("quinn", "qa"), System("ana", "release_manager")):
            flows.decide(ctx, s, release.id, who, "approve", now=at)
        s.commit()
        return run_id, release.id


def tick(releases: Releases, now: datetime) -> list[int]:
    with releases.api.ctx.db.session() as s:
        dispatches = settle_waiting_gates(s, releases.api.ctx.store.exists, now)
        s.commit()
    return [d.job_id for d in dispatches]


def test_the_gate_opens_by_itself_when_the_freeze_window_ends(releases: Releases) -> None:
    pipeline = PIPELINE + '  freeze: ["Fri 16:00-Mon 08:00 Europe/Berlin"]\n'
    run_id, release_id = approved_release(releases, pipeline, FRIDAY_EVENING, platforms=("android",))
    assert releases.job(run_id, "gate:android").status == "waiting"
    assert tick(releases, FRIDAY_EVENING) == []
    gate = releases.job(run_id, "gate:android")
    assert gate.status == "waiting"
    assert (
        "freeze window: release freeze 'Fri 16:00-Mon 08:00 Europe/Berlin' until 2026-12-07 07:00 UTC"
        in gate.reason
    )
    assert tick(releases, MONDAY_MORNING - timedelta(minutes=1)) == []
    sent = tick(releases, MONDAY_MORNING)
    assert sent == [releases.job(run_id, "submit:android").id]
    assert releases.job(run_id, "gate:android").status == "succeeded"
    assert tick(releases, MONDAY_MORNING + timedelta(minutes=5)) == []  # once only
    with releases.api.ctx.db.session() as s:
        kept = s.scalars(
            select(GateEvaluation).where(GateEvaluation.release_id == release_id).order_by(GateEvaluation.id)
        ).all()
        assert kept[-1].passed and kept[-1].facts["now"].startswith("2026-12-07T07:00")


def test_soak_time_counts_from_the_build_and_then_lets_the_release_go(releases: Releases) -> None:
    built = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    run_id, _ = approved_release(
        releases,
        PIPELINE + "  soak: 24h\n",
        built + timedelta(hours=1),
        platforms=("android",),
        built_at=built,
    )
    assert tick(releases, built + timedelta(hours=23)) == []
    assert "soaking until 2026-12-02 09:00 UTC (needs 1d)" in releases.job(run_id, "gate:android").reason
    assert tick(releases, built + timedelta(hours=24)) == [releases.job(run_id, "submit:android").id]


def test_a_single_gate_for_all_platforms_waits_for_every_platform(releases: Releases) -> None:
    run_id = releases.run_at_gate(per_platform_gate=False)
    release_id = releases.cut(run_id).json()["id"]
    releases.decide(release_id, ("quinn", "qa"))
    releases.decide(release_id, ("ana", "release_manager"))
    assert releases.job(run_id, "gate").status == "succeeded"
    with releases.api.ctx.db.session() as s:
        submits = s.scalars(select(Job.id).where(Job.run_id == run_id, Job.kind == "submit")).all()
    assert sorted(releases.submits_sent()) == sorted(submits)


def test_a_tag_push_matching_from_tags_cuts_its_release(releases: Releases) -> None:
    releases.commit(PIPELINE + '  from_tags: "v*"\n')
    run_id = releases.run_at_gate(ref="refs/tags/v4.3.0", pushed_by="carl")
    other = releases.run_at_gate(ref="refs/tags/nightly-5")
    with releases.api.ctx.db.session() as s:
        flows.settle_gates(releases.api.ctx, s)
        s.commit()
    listed = releases.api.client.get(
        "/api/releases?project=shop", headers=releases.person("v", "developer")
    ).json()
    [release] = listed["releases"]
    assert (release["version"], release["run_id"], release["created_by"]) == ("4.3.0", run_id, "carl")
    assert other != run_id
    # The pusher is the author: four eyes refuses their approval.
    r = releases.decide(release["id"], ("carl", "release_manager"))
    assert r.status_code == 403 and "carl cut release 4.3.0" in r.json()["detail"]
