"""The `gate` stage kind: the release checklist as a job of the run. Its attempt shows the
checklist in the job log and leaves the job `waiting` (no worker held); from then on
`orchestrator.releases.settlement` re-evaluates it whenever a fact changes (a cut, an approval,
a review, the clock) and moves it to `succeeded` exactly once, which releases `submit`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orchestrator.stages.base import Attempt, Outcome, Problem

if TYPE_CHECKING:
    from orchestrator.spec.model import StageSpec

WAIT_REASON = "waiting for the release gate"


class GateStage:
    name = "gate"
    accepts: frozenset[str] = frozenset()
    # One gate for the whole release unless `per_platform: true` lets each platform pass alone.
    defaults: Mapping[str, Any] = MappingProxyType({"per_platform": False})
    wait_reason = WAIT_REASON

    def check(self, name: str, stage: StageSpec) -> list[Problem]:
        at = ("stages", name)
        return [
            Problem((*at, key), f"gate stage {name!r} runs no command (expected no `{key}:`)", "key")
            for key in ("run", "lane")
            if getattr(stage, key) is not None
        ]

    def default_queue(self, platform: str | None) -> str:
        return "default"

    def leases_devices(self, stage: StageSpec) -> bool:
        return False

    def run(self, attempt: Attempt) -> Outcome:
        from sqlalchemy import select

        from orchestrator.db.models import Run, utcnow
        from orchestrator.releases.models import Release
        from orchestrator.releases.settlement import checklists

        ctx, work = attempt.ctx, attempt.work
        with ctx.db.read_session() as session:
            run = session.get(Run, work.run_id)
            assert run is not None
            release = session.scalar(select(Release).where(Release.run_id == run.id))
            lists = checklists(session, run, release, utcnow())
        mine = {p: c for p, c in lists.items() if work.job.platform in (None, p)}
        for platform, checklist in mine.items():
            for line in checklist.lines:
                attempt.log.line(f"instep: gate {platform}: {line.state:7} {line.title}: {line.reason}")
        blocking = [f"{p}: {c.blocking()}" for p, c in mine.items() if not c.passed]
        # Always wait: the settlement moves the job on under its row lock, so `submit` is
        # released exactly once even when this attempt and an approval race.
        return Outcome("waiting", f"{WAIT_REASON}: " + "; ".join(blocking) if blocking else WAIT_REASON)
