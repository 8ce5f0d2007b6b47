"""The `submit` stage kind: after the gate, hand the release candidate to the store exactly once.

With no `lane:`/`run:` it uses Instep's store adapter for the platform (android: Google Play,
ios: App Store Connect) behind the submission ledger (`orchestrator.submissions`); with a `lane:`
it runs the team's own submission lane with the version, build number, track and rollout as
options, once: a lane whose outcome is unknown is never run again by itself. Store credentials
reach only submit jobs of releases cut from protected refs. A submit stage must come after a
`gate` stage (checked across stages by `gate_problems`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orchestrator.stages.base import Attempt, Outcome, Problem, command_problems, run_declared

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from orchestrator.db.models import Job, Run
    from orchestrator.spec.model import StageSpec


class SubmitStage:
    name = "submit"
    accepts: frozenset[str] = frozenset()
    # A worker lost mid-call is retried: the next attempt reads the store before sending anything.
    defaults: Mapping[str, Any] = MappingProxyType({"retries": 2})
    wait_reason = None

    def check(self, name: str, stage: StageSpec) -> list[Problem]:
        return command_problems(name, stage, required=False)

    def default_queue(self, platform: str | None) -> str:
        return platform or "default"

    def leases_devices(self, stage: StageSpec) -> bool:
        return False

    def run(self, attempt: Attempt) -> Outcome:
        from orchestrator.releases.submission import SubmissionRefused, begin

        try:
            release = begin(attempt.ctx, attempt.work.run_id, attempt.job.platform)
        except SubmissionRefused as exc:
            return Outcome("failed", str(exc))
        if release.already:
            why = f"release {release.version} on {release.platform} is {release.already} already; nothing sent again"
            attempt.log.line(f"instep: {why}")
            return Outcome("succeeded", why)
        attempt.log.line(
            f"instep: submitting release {release.version} build {release.build_number} on {release.platform}"
        )
        if attempt.job.spec.run or attempt.job.spec.lane:
            return _run_lane(attempt, release)
        from orchestrator.submissions.service import submit_to_store

        result = submit_to_store(
            attempt.ctx, release.platform_id, attempt.workspace / ".instep-store", attempt.log.line
        )
        return Outcome(result.status, attempt.redactor(result.reason) if result.reason else None)


def _run_lane(attempt: Attempt, release: Any) -> Outcome:
    from orchestrator.releases.models import Release, ReleasePlatform
    from orchestrator.releases.submission import recorder
    from orchestrator.submissions.connections import StoreUnavailable
    from orchestrator.submissions.ledger import Next
    from orchestrator.submissions.rollout_plan import first_fraction
    from orchestrator.submissions.service import (
        claim_lane,
        credentials_for,
        lane_finished,
        unknown_lane_reason,
    )

    ctx = attempt.ctx
    target, action, step = claim_lane(ctx, release.platform_id)
    if step is Next.DONE:
        return Outcome("succeeded", f"{target.subject} was submitted already")
    if step is Next.FAILED:
        return Outcome("failed", action.reason or "the submission lane failed")
    if step is Next.HOLD:
        from orchestrator.submissions.service import store_shows

        why = f"{unknown_lane_reason(target)}; {store_shows(ctx, release.platform_id)}"
        with ctx.db.session() as session:
            row = session.get(ReleasePlatform, release.platform_id)
            if row is not None:
                row.reason = why
            session.commit()
        return Outcome("failed", why)
    with ctx.db.read_session() as session:
        owner = session.get(Release, target.release_id)
        assert owner is not None
        try:
            credentials = credentials_for(session, ctx, owner)
        except StoreUnavailable as exc:
            attempt.log.line(f"instep: {exc}")
            credentials = {}
    spec = attempt.job.spec
    fraction = first_fraction(target.policy.rollout)
    options = {**spec.lane_options, "version": release.version}
    if release.build_number is not None:
        options["build_number"] = str(release.build_number)
    store = target.policy.store
    track = store.google_play.track if store and store.google_play else None
    if track and release.platform == "android":
        options.setdefault("track", track)
    if fraction is not None:
        options.setdefault("rollout", f"{fraction:g}")
    job = attempt.job.model_copy(update={"spec": spec.model_copy(update={"lane_options": options})})
    env = {**attempt.env, **credentials, **release.env()}
    outcome = run_declared(replace(attempt, work=replace(attempt.work, job=job), env=env))
    outcome = outcome or Outcome("failed", f"stage {attempt.job.stage!r} has nothing to run")
    record = recorder(release.platform_id, outcome.status, outcome.reason)
    action_id, status, reason = action.id, outcome.status, outcome.reason
    if outcome.timed_out:
        # The lane may have uploaded before it was killed: the store decides, a person settles.
        status = "timed_out"
        reason = f"{reason}; {unknown_lane_reason(target)}"
        outcome = replace(outcome, reason=reason)

    def finish(session: Session, job_row: Job, run: Run) -> None:
        lane_finished(session, action_id, status, reason)
        if status in ("succeeded", "failed"):
            record(session, job_row, run)
        elif status == "timed_out":
            row = session.get(ReleasePlatform, release.platform_id)
            if row is not None and row.state == "submitting":
                row.reason = reason

    return replace(outcome, finish_with=finish)


def gate_problems(stages: Mapping[str, StageSpec]) -> list[Problem]:
    """Every submit stage needs a gate stage, directly or through the stages it needs."""
    out = []
    for name, stage in stages.items():
        if stage.kind != "submit":
            continue
        seen: set[str] = set()
        todo = list(stage.needs)
        while todo:
            need = todo.pop()
            if need in seen or need not in stages:
                continue
            seen.add(need)
            todo.extend(stages[need].needs)
        if not any(stages[n].kind == "gate" for n in seen):
            path = ("stages", name, "needs") if stage.needs else ("stages", name)
            out.append(
                Problem(
                    path,
                    f"stage {name!r} needs no `gate` stage, so nothing would hold the release before the "
                    "stores (expected `needs:` to include a gate stage, directly or through other stages)",
                    "value" if stage.needs else "key",
                )
            )
    return out
