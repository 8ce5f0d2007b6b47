"""The scheduler's store tick: read each submitted release platform's store (at most every
`store_poll_seconds`), move it along `submitted -> in_review -> approved_by_store |
rejected_by_store -> rolling_out -> released` as the store says, start the rollout once the
store approved, advance Play rollouts by the plan when due (never a halted or paused one), and
settle submissions whose outcome was left unknown by reading the store."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from orchestrator.context import Context
from orchestrator.db.models import utcnow
from orchestrator.releases.models import Release, ReleasePlatform
from orchestrator.releases.service import System, audit, notify
from orchestrator.submissions import ledger_rows, rollouts
from orchestrator.submissions.connections import StoreUnavailable
from orchestrator.submissions.models import StoreAction, StoreStatus
from orchestrator.submissions.rollout_plan import advance_due
from orchestrator.submissions.service import candidate_for, record_submitted, store_for, target_of, walk
from stores import ReviewState, RolloutState, StoreError

log = logging.getLogger(__name__)
WATCHED = ("submitted", "in_review", "approved_by_store", "rolling_out", "halted")
REVIEW_TO_PLATFORM = {
    ReviewState.IN_REVIEW: "in_review",
    ReviewState.APPROVED: "approved_by_store",
    ReviewState.RELEASED: "approved_by_store",
}
PLAN = System(name="rollout plan", role="system")
MAX_PER_TICK = 50


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def tick(ctx: Context, now: datetime | None = None, *, force: bool = False) -> None:
    """One store tick; `force` reads every watched platform regardless of when it was last read."""
    now = now or utcnow()
    reconcile_unknown(ctx, now)
    every = timedelta(seconds=ctx.settings.store_poll_seconds)
    with ctx.db.read_session() as session:
        rows = session.execute(
            select(ReleasePlatform.id, StoreStatus.read_at)
            .join(Release, Release.id == ReleasePlatform.release_id)
            .outerjoin(StoreStatus, StoreStatus.release_platform_id == ReleasePlatform.id)
            .where(Release.state == "active", ReleasePlatform.state.in_(WATCHED))
            .order_by(ReleasePlatform.id)
            .limit(MAX_PER_TICK)
        ).all()
    for platform_id, read_at in rows:
        read_at = _aware(read_at)
        if not force and read_at is not None and now - read_at < every:
            continue
        try:
            poll(ctx, platform_id, now)
        except Exception:  # one store's bad day must not stop the others; the next tick retries
            log.exception("store poll of release platform %s failed", platform_id)


def poll(ctx: Context, platform_id: int, now: datetime) -> None:
    """Read one release platform's store and apply what it says."""
    try:
        target, store = store_for(ctx, platform_id)
        cand = candidate_for(ctx, target, None)
        review = store.review_state(cand)
        rollout = (
            store.rollout_state(cand)
            if review.review in (ReviewState.APPROVED, ReviewState.RELEASED)
            else None
        )
    except (StoreUnavailable, StoreError) as exc:
        with ctx.db.session() as session:
            row = session.get(ReleasePlatform, platform_id)
            if row is not None:
                ledger_rows.keep_status(session, platform_id, "?", now, error=str(exc))
            session.commit()
        return
    start = False
    advance_to = None
    with ctx.db.session() as session:
        row = session.scalar(
            select(ReleasePlatform).where(ReleasePlatform.id == platform_id).with_for_update()
        )
        assert row is not None
        release = row.release
        values: dict[str, Any] = {
            "review": review.review.value,
            "store_state": review.store_state,
            "error": None,
        }
        if rollout is not None:
            values.update(
                rollout=rollout.state.value,
                fraction=rollout.fraction,
                day=rollout.day,
                store_state=rollout.store_state,
            )
        status = ledger_rows.status_of(session, platform_id)
        if (
            rollout is not None
            and rollout.state is RolloutState.IN_PROGRESS
            and (status is None or status.fraction_changed_at is None)
        ):
            values["fraction_changed_at"] = now
        status = ledger_rows.keep_status(session, platform_id, review.store, now, **values)
        before = row.state
        subject = f"{release.version} {row.platform}"
        if review.review is ReviewState.REJECTED:
            walk(session, release, row, "in_review", None, now)
            walk(
                session,
                release,
                row,
                "rejected_by_store",
                f"{review.store} did not approve it ({review.store_state})",
                now,
            )
        elif review.review in REVIEW_TO_PLATFORM:
            walk(session, release, row, REVIEW_TO_PLATFORM[review.review], None, now)
        if rollout is not None and rollout.state in rollouts.PLATFORM_OF:
            walk(session, release, row, rollouts.PLATFORM_OF[rollout.state], None, now)
        if row.state != before:
            audit(
                session,
                release.project_id,
                release.id,
                System(),
                f"store_{row.state}",
                subject,
                {"store_state": status.store_state},
                now,
            )
            notify(
                session,
                release,
                "release.store_state",
                f"release {release.version} on {row.platform}: {row.state.replace('_', ' ')} ({status.store_state})",
                platform=row.platform,
                state=row.state,
            )
        if row.state == "approved_by_store" and (
            rollout is None or rollout.state is RolloutState.NOT_STARTED
        ):
            start = ledger_rows.find(session, release.id, row.platform, "start") is None
        elif row.state == "rolling_out":
            plan = target.policy.rollout
            advance_to = advance_due(
                plan,
                rollout=status.rollout,
                fraction=status.fraction,
                changed_at=_aware(status.fraction_changed_at),
                now=now,
            )
        session.commit()
    if start:
        _quietly(ctx, target.release_id, "start", target.platform, None)
    elif advance_to is not None:
        _quietly(ctx, target.release_id, "rollout", target.platform, advance_to * 100)


def _quietly(ctx: Context, release_id: int, verb: str, platform: str, percent_to: float | None) -> None:
    from orchestrator.releases.service import ReleaseError

    try:
        rollouts.act(ctx, release_id, PLAN, verb, platform=platform, percent_to=percent_to, automatic=True)
    except ReleaseError as exc:  # a person acted first (halted, moved it on): the plan waits
        log.info("rollout plan of release %s %s: %s", release_id, platform, exc)


def reconcile_unknown(ctx: Context, now: datetime) -> None:
    """Submissions left `unknown` (or `sent` by a worker that vanished): read the store and
    confirm what it has; never send from here."""
    quiet = now - timedelta(seconds=ctx.settings.lost_after_seconds)
    with ctx.db.read_session() as session:
        rows = list(
            session.scalars(
                select(StoreAction)
                .where(
                    StoreAction.action == "submit",
                    StoreAction.store != "lane",
                    StoreAction.state.in_(["sent", "unknown"]),
                )
                .order_by(StoreAction.id)
                .limit(MAX_PER_TICK)
            )
        )
        todo = []
        for action in rows:
            if action.state == "sent" and (_aware(action.updated_at) or now) > quiet:
                continue  # its worker may still be waiting for the answer
            row = session.scalar(
                select(ReleasePlatform).where(
                    ReleasePlatform.release_id == action.release_id,
                    ReleasePlatform.platform == action.platform,
                )
            )
            if row is not None and row.state == "submitting":
                todo.append((action, row.id))
    for action, platform_id in todo:
        try:
            target, store = store_for(ctx, platform_id)
            found = store.find_submission(candidate_for(ctx, target, None))
        except (StoreUnavailable, StoreError) as exc:
            log.info("cannot read the store for release platform %s: %s", platform_id, exc)
            continue
        if found is not None and found.review is not ReviewState.NOT_SUBMITTED:
            record_submitted(ctx, target, action, action.state, found, "read", lambda line: None)


__all__ = ["poll", "reconcile_unknown", "target_of", "tick"]
