"""Submitting a release platform to its store exactly once, and recording what the store says.

Every store call follows the ledger: claim (release, platform, action) -> `sent` committed ->
call the store -> `confirmed | failed` with the store's answer, in the transaction that moves
the release platform. A call that died leaves `sent`/`unknown`; the next attempt reads the store
and confirms instead of sending again. Store calls never happen inside a database transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.context import Context
from orchestrator.db.models import Artifact, Project, Run, utcnow
from orchestrator.job_environment import (
    protected_refs,
    release_may_use_store_credentials,
    store_credentials,
)
from orchestrator.projects import job_secrets
from orchestrator.releases.models import Release, ReleasePlatform
from orchestrator.releases.service import Person, System, audit, notify
from orchestrator.releases.states import allowed, check_move, release_state
from orchestrator.spec.release import ReleaseSpec
from orchestrator.submissions import ledger_rows
from orchestrator.submissions.connections import (
    StoreUnavailable,
    bundle_of,
    candidate,
    connect,
    store_name,
)
from orchestrator.submissions.ledger import Next, next_step
from orchestrator.submissions.models import StoreAction
from orchestrator.submissions.rollout_plan import first_fraction
from stores import Candidate, ErrorCategory, ReviewState, Store, StoreError
from stores.base import Submission as StoreSubmission

log = logging.getLogger(__name__)
Say = Callable[[str], None]

# The platform's way from submission to the shelves; a poll walks it as far as the store is.
FORWARD = ("submitted", "in_review", "approved_by_store", "rolling_out", "released")


@dataclass(frozen=True)
class Target:
    """A release platform as a store call needs it, copied out of the database."""

    release_id: int
    platform_id: int
    project_id: int
    version: str
    platform: str
    build_number: int | None
    files: list[dict[str, Any]]
    policy: ReleaseSpec
    state: str

    @property
    def subject(self) -> str:
        return f"{self.version} {self.platform}"


def target_of(session: Session, row: ReleasePlatform) -> Target:
    release = row.release
    return Target(
        release.id,
        row.id,
        release.project_id,
        release.version,
        row.platform,
        row.build_number,
        list(row.candidate or []),
        ReleaseSpec.model_validate(release.policy),
        row.state,
    )


def credentials_for(session: Session, ctx: Context, release: Release) -> dict[str, str]:
    """The project's store credentials, only for a release cut from a protected ref."""
    run = session.get(Run, release.run_id)
    project = session.get(Project, release.project_id)
    assert run is not None and project is not None
    policy = ReleaseSpec.model_validate(release.policy)
    patterns = protected_refs(project.default_branch, policy.protected_refs, policy.from_tags)
    if not release_may_use_store_credentials(run.ref, patterns):
        raise StoreUnavailable(
            f"release {release.version} was cut from {run.ref}, which is not a protected ref "
            f"({', '.join(patterns)}), so it gets no store credentials (cut it from a protected "
            "ref, or list the ref under `release.protected_refs`)"
        )
    return store_credentials(job_secrets(project, ctx.sealer))


def store_for(ctx: Context, platform_id: int) -> tuple[Target, Store]:
    """The release platform and its store adapter (raises StoreUnavailable / StoreError)."""
    with ctx.db.read_session() as session:
        row = session.get(ReleasePlatform, platform_id)
        assert row is not None
        target = target_of(session, row)
        credentials = credentials_for(session, ctx, row.release)
    return target, connect(target.policy, target.platform, credentials)


def candidate_for(ctx: Context, target: Target, workdir: Path | None) -> Candidate:
    """The candidate; for Google Play with its AAB fetched from the artifact store into `workdir`."""
    artifact = None
    if workdir is not None and store_name(target.platform) == "google_play":
        bundle = bundle_of(target.files)
        with ctx.db.read_session() as session:
            stored = session.get(Artifact, bundle["artifact_id"])
            key = stored.store_key if stored is not None else None
        if key is None:
            raise StoreUnavailable(
                f"the candidate's bundle {bundle['name']} is no longer in the artifact store"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        artifact = workdir / Path(str(bundle["name"])).name
        with artifact.open("wb") as out:
            for chunk in ctx.store.open(key):
                out.write(chunk)
    return candidate(target.version, target.build_number, artifact)


# --- moving the release platform -------------------------------------------------------------


def walk(
    session: Session, release: Release, row: ReleasePlatform, to: str, reason: str | None, now: datetime
) -> bool:
    """Move the platform forward along FORWARD up to `to` (or straight to a final state the table
    allows); True when it moved. The release's own state follows."""
    moved = False
    if to in FORWARD and row.state in FORWARD:
        for step in FORWARD[FORWARD.index(row.state) + 1 : FORWARD.index(to) + 1]:
            if not allowed(row.state, step):
                if step == "rolling_out" and to == "released":
                    continue  # a full release skips the rollout
                break
            row.state, row.reason, row.updated_at = step, reason, now
            moved = True
    elif to != row.state:
        check_move(f"{release.version} {row.platform}", row.state, to)
        row.state, row.reason, row.updated_at = to, reason, now
        moved = True
    if moved:
        settle_release(session, release, now)
    return moved


def settle_release(session: Session, release: Release, now: datetime) -> None:
    """The release ends `finished` / `partially_finished` / `failed` once every platform ended."""
    state = release_state(p.state for p in release.platforms)
    if state == "active" or release.state != "active":
        return
    release.state = state
    audit(session, release.project_id, release.id, System(), state, f"release {release.version}", {}, now)
    notify(session, release, f"release.{state}", f"release {release.version} {state.replace('_', ' ')}")


def _lock_platform(session: Session, platform_id: int) -> ReleasePlatform:
    row = session.scalar(
        select(ReleasePlatform)
        .where(ReleasePlatform.id == platform_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def record_submitted(
    ctx: Context,
    target: Target,
    action: StoreAction,
    expected: str,
    answer: StoreSubmission,
    via: str,
    say: Say,
) -> None:
    """Confirm the submission and move the platform to `submitted`, in one transaction."""
    now = utcnow()
    with ctx.db.session() as session:
        row = _lock_platform(session, target.platform_id)
        action = session.merge(action)
        if not ledger_rows.cas(
            session,
            action,
            expected,
            "confirmed",
            now,
            answer={**ledger_rows.plain(answer), "via": via},
            reason=None,
        ):
            session.rollback()
            return  # another attempt recorded it first
        ledger_rows.keep_status(
            session,
            row.id,
            answer.store,
            now,
            review=answer.review.value,
            store_state=answer.store_state,
            error=None,
        )
        if row.state == "submitting":
            walk(session, row.release, row, "submitted", None, now)
        audit(
            session,
            target.project_id,
            target.release_id,
            System(),
            "submitted",
            target.subject,
            {
                "store": answer.store,
                "submission_id": answer.submission_id,
                "store_state": answer.store_state,
                "via": via,
            },
            now,
        )
        notify(
            session,
            row.release,
            "release.submitted",
            f"release {target.version} submitted to {answer.store} on {target.platform}"
            + (" (confirmed by reading the store)" if via == "read" else ""),
            platform=target.platform,
            store=answer.store,
        )
        session.commit()
    say(
        f"instep: {target.subject} submitted to {answer.store} ({answer.store_state}"
        + (", confirmed by reading the store)" if via == "read" else ")")
    )


def record_failed(
    ctx: Context,
    target: Target,
    action: StoreAction | None,
    expected: str | None,
    why: str,
    category: str | None,
) -> None:
    now = utcnow()
    with ctx.db.session() as session:
        row = _lock_platform(session, target.platform_id)
        if action is not None and expected is not None:
            action = session.merge(action)
            ledger_rows.cas(session, action, expected, "failed", now, reason=why, category=category)
        if row.state == "submitting":
            walk(session, row.release, row, "failed", why, now)
            audit(
                session,
                target.project_id,
                target.release_id,
                System(),
                "failed",
                target.subject,
                {"reason": why, "category": category},
                now,
            )
            notify(
                session,
                row.release,
                "release.store_failed",
                f"release {target.version} on {target.platform}: {why}",
                platform=target.platform,
                category=category,
            )
        session.commit()


def record_unknown(ctx: Context, target: Target, action: StoreAction, why: str) -> None:
    now = utcnow()
    with ctx.db.session() as session:
        action = session.merge(action)
        if action.state == "sent":
            ledger_rows.cas(session, action, "sent", "unknown", now, reason=why)
        row = _lock_platform(session, target.platform_id)
        row.reason = why
        audit(
            session,
            target.project_id,
            target.release_id,
            System(),
            "outcome_unknown",
            target.subject,
            {"reason": why},
            now,
        )
        session.commit()


# --- the submit stage's store call -------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    status: str  # succeeded | failed
    reason: str | None


def _pause_for_tests(ctx: Context, say: Say) -> None:
    """INSTEP_TEST_PAUSE_AFTER_STORE_SEND: tests kill the worker here (store answered, ledger not)."""
    marker = ctx.settings.test_pause_after_store_send
    if marker is None:
        return
    say("instep: test pause after the store accepted the submission")
    marker.write_text("paused\n")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and marker.exists():
        time.sleep(0.05)


def _read(store: Store, cand: Candidate) -> StoreSubmission | None:
    found = store.find_submission(cand)
    if found is None or found.review is ReviewState.NOT_SUBMITTED:
        return None
    return found


def submit_to_store(ctx: Context, platform_id: int, workdir: Path, say: Say) -> Result:
    """The submit job's store call for one release platform (already `submitting`)."""
    try:
        target, store = store_for(ctx, platform_id)
    except (StoreUnavailable, StoreError) as exc:
        with ctx.db.read_session() as session:
            row = session.get(ReleasePlatform, platform_id)
            assert row is not None
            target = target_of(session, row)
        record_failed(
            ctx,
            target,
            None,
            None,
            str(exc),
            getattr(getattr(exc, "category", None), "value", "needs_action"),
        )
        return Result("failed", str(exc))
    fraction = first_fraction(target.policy.rollout)
    with ctx.db.session() as session:
        action, _ = ledger_rows.claim(
            session,
            release_id=target.release_id,
            platform=target.platform,
            action="submit",
            store=store.name,
            who="instep",
            request={"version": target.version, "build_number": target.build_number, "fraction": fraction},
        )
        session.commit()
    step = next_step(action.state, lane=False)
    if step is Next.DONE:
        return Result("succeeded", f"{target.subject} was submitted already")
    if step is Next.FAILED:
        return Result("failed", action.reason)
    try:
        cand = candidate_for(ctx, target, workdir)
    except StoreUnavailable as exc:
        if action.state == "intended":
            record_failed(ctx, target, action, "intended", str(exc), "needs_action")
        return Result("failed", str(exc))
    if step is Next.RECONCILE:
        say(
            f"instep: an earlier attempt sent {target.subject} to {store.name} without recording the answer; reading the store"
        )
        try:
            found = _read(store, cand)
        except StoreError as exc:
            record_unknown(ctx, target, action, f"outcome unknown and the store could not be read: {exc}")
            return Result("failed", f"outcome of the submission unknown; the store could not be read: {exc}")
        if found is not None:
            record_submitted(ctx, target, action, action.state, found, "read", say)
            return Result("succeeded", None)
        say(f"instep: {store.name} has no submission of {target.subject}; sending it")
        with ctx.db.session() as session:
            action = session.merge(action)
            if action.state == "sent":
                ledger_rows.cas(session, action, "sent", "unknown", reason="the store showed no submission")
            if not ledger_rows.cas(session, action, "unknown", "sent"):
                session.rollback()
                return Result("failed", "another attempt is submitting this release platform")
            session.commit()
    else:
        with ctx.db.session() as session:
            action = session.merge(action)
            if not ledger_rows.cas(session, action, "intended", "sent"):
                session.rollback()
                return Result("failed", "another attempt is submitting this release platform")
            session.commit()
    expected = "sent"
    say(f"instep: submitting {target.subject} build {cand.build_number} to {store.name}")
    try:
        answer = store.submit(cand, fraction=fraction)
    except StoreError as exc:
        if exc.category is ErrorCategory.CONFLICT:
            found = _safe_read(store, cand)
            if found is not None:
                record_submitted(ctx, target, action, expected, found, "read", say)
                return Result("succeeded", None)
        record_failed(ctx, target, action, expected, str(exc), exc.category.value)
        return Result("failed", str(exc))
    except Exception as exc:  # network or client failure: the store may or may not have it
        why = f"{store.name} submit ended without an answer ({type(exc).__name__}: {exc})"
        found = _safe_read(store, cand)
        if found is not None:
            record_submitted(ctx, target, action, expected, found, "read", say)
            return Result("succeeded", None)
        record_unknown(ctx, target, action, why)
        return Result("failed", why + "; outcome unknown: the next attempt reads the store first")
    _pause_for_tests(ctx, say)
    record_submitted(ctx, target, action, expected, answer, "answer", say)
    return Result("succeeded", None)


def _safe_read(store: Store, cand: Candidate) -> StoreSubmission | None:
    try:
        return _read(store, cand)
    except StoreError:
        return None


# --- a submission lane (the team's own) ---------------------------------------------------------


def claim_lane(ctx: Context, platform_id: int) -> tuple[Target, StoreAction, Next]:
    with ctx.db.session() as session:
        row = session.get(ReleasePlatform, platform_id)
        assert row is not None
        target = target_of(session, row)
        action, _ = ledger_rows.claim(
            session,
            release_id=target.release_id,
            platform=target.platform,
            action="submit",
            store="lane",
            who="instep",
            request={"version": target.version, "build_number": target.build_number},
        )
        step = next_step(action.state, lane=True)
        if step is Next.SEND and not ledger_rows.cas(session, action, "intended", "sent"):
            step = Next.HOLD
        session.commit()
    return target, action, step


def lane_finished(session: Session, action_id: int, status: str, reason: str | None) -> None:
    """Record the lane's outcome in the job's finishing transaction: exit 0 confirms, a failing
    lane fails, anything else (canceled, timed out) leaves the outcome unknown."""
    action = session.get(StoreAction, action_id)
    if action is None or action.state != "sent":
        return
    new = {"succeeded": "confirmed", "failed": "failed"}.get(status, "unknown")
    ledger_rows.cas(session, action, "sent", new, answer={"job_status": status}, reason=reason)


def unknown_lane_reason(target: Target) -> str:
    return (
        f"the submission lane of {target.subject} was sent before and its outcome is unknown; Instep "
        "does not run a submission lane again by itself: a release manager checks the store and "
        "settles it (`POST /api/releases/ID/submissions/PLATFORM/settle`)"
    )


def act_as(who: Person) -> str:
    return f"{who.name} ({who.role})"


def store_shows(ctx: Context, platform_id: int) -> str:
    """What the store has for a release platform, in words (for a person deciding)."""
    try:
        target, store = store_for(ctx, platform_id)
        found = store.find_submission(candidate_for(ctx, target, None))
    except (StoreUnavailable, StoreError) as exc:
        return f"the store could not be read ({exc})"
    if found is None:
        return f"{store.name} has no submission of build {target.build_number}"
    return f"{store.name} has build {found.build_number}: {found.review.value} ({found.store_state})"


def settle_unknown(
    ctx: Context, release_id: int, platform: str, who: Person, outcome: str, comment: str
) -> None:
    """A release manager settles a submission whose outcome is unknown (a lane Instep will not
    run again): `submitted` confirms it, `failed` ends the platform; audited and notified."""
    from orchestrator.releases.service import InvalidRelease, NotAllowed, ReleaseNotFound, ReleaseRefused

    if who.role not in ("release_manager", "admin"):
        raise NotAllowed(f"role {who.role!r} may not settle a submission (needs role release_manager)")
    if outcome not in ("submitted", "failed") or not comment.strip():
        raise InvalidRelease(
            "settle with outcome `submitted` or `failed` and a comment saying what the store shows"
        )
    now = utcnow()
    with ctx.db.session() as session:
        row = session.scalar(
            select(ReleasePlatform)
            .where(ReleasePlatform.release_id == release_id, ReleasePlatform.platform == platform)
            .with_for_update()
        )
        if row is None:
            raise ReleaseNotFound(f"release {release_id} has no {platform} platform")
        action = ledger_rows.find(session, release_id, platform, "submit")
        if action is None or action.state not in ("sent", "unknown") or row.state != "submitting":
            raise ReleaseRefused(
                f"release {row.release.version} on {platform} has no submission with an unknown outcome "
                f"({row.state}, ledger {action.state if action else 'empty'})"
            )
        new = "confirmed" if outcome == "submitted" else "failed"
        answer = {"via": "release_manager", "by": who.name, "comment": comment}
        ledger_rows.cas(
            session,
            action,
            action.state,
            new,
            now,
            answer=answer,
            reason=None if new == "confirmed" else comment,
        )
        walk(
            session,
            row.release,
            row,
            "submitted" if new == "confirmed" else "failed",
            None if new == "confirmed" else comment,
            now,
        )
        subject = f"{row.release.version} {platform}"
        audit(
            session,
            row.release.project_id,
            release_id,
            who,
            f"submission_settled_{outcome}",
            subject,
            {"comment": comment},
            now,
        )
        notify(
            session,
            row.release,
            "release.submitted" if new == "confirmed" else "release.store_failed",
            f"{who.name} settled the submission of release {row.release.version} on {platform}: {outcome} ({comment})",
            platform=platform,
        )
        session.commit()
