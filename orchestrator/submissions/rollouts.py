"""Rollout control: start, move to a fraction, halt, resume and complete a release platform's
rollout in its store, by a release manager or by the plan on the clock. Each change is one
ledger action (claimed under the platform's row lock, at most one open per platform), sent to
the store outside any transaction, and recorded with the store's answer read back, audited and
notified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from orchestrator.context import Context
from orchestrator.db.models import utcnow
from orchestrator.releases.models import Release, ReleasePlatform
from orchestrator.releases.service import (
    InvalidRelease,
    NotAllowed,
    Person,
    ReleaseNotFound,
    ReleaseRefused,
    audit,
    notify,
)
from orchestrator.submissions import ledger_rows
from orchestrator.submissions.connections import StoreUnavailable, store_name
from orchestrator.submissions.models import StoreAction
from orchestrator.submissions.rollout_plan import percent
from orchestrator.submissions.service import candidate_for, store_for, walk
from stores import Rollout, RolloutState, StoreError

VERBS = ("start", "rollout", "halt", "resume", "complete")
ROLES = ("release_manager", "admin")
# Platform states each verb applies to.
FROM_STATES = {
    "start": ("approved_by_store",),
    "rollout": ("rolling_out",),
    "halt": ("rolling_out",),
    "resume": ("halted",),
    "complete": ("approved_by_store", "rolling_out", "halted"),
}
# The platform state each confirmed store rollout state means.
PLATFORM_OF = {
    RolloutState.IN_PROGRESS: "rolling_out",
    RolloutState.HALTED: "halted",
    RolloutState.COMPLETED: "released",
}


@dataclass(frozen=True)
class Claimed:
    platform_id: int
    platform: str
    action: StoreAction
    fraction: float | None


def _verb_action(session, release_id: int, platform: str, verb: str, fraction: float | None) -> str:  # type: ignore[no-untyped-def]
    if verb == "rollout":
        return f"rollout_to_{fraction * 100:g}" if fraction is not None and fraction < 1 else "complete"
    if verb in ("start", "complete"):
        return verb
    return f"{verb}_{ledger_rows.count_actions(session, release_id, platform, verb + '_') + 1}"


def claim(
    ctx: Context,
    release_id: int,
    who: Person,
    verb: str,
    *,
    platform: str | None = None,
    fraction: float | None = None,
    automatic: bool = False,
    states: tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> list[Claimed]:
    """Check the request and claim one ledger action per platform it applies to (committed).
    `states` widens the platform states the verb applies to (a web rollback's store halt)."""
    now = now or utcnow()
    if verb not in VERBS:
        raise InvalidRelease(f"{verb!r} is not a rollout action (expected one of: {', '.join(VERBS)})")
    if not automatic and who.role not in ROLES:
        raise NotAllowed(f"role {who.role!r} may not {verb} a rollout (needs role release_manager)")
    if verb == "rollout" and (fraction is None or not 0 < fraction <= 1):
        raise InvalidRelease("a rollout needs `to`: a percentage above 0 and at most 100")
    claimed: list[Claimed] = []
    with ctx.db.session() as session:
        release = session.scalar(select(Release).where(Release.id == release_id).with_for_update())
        if release is None:
            raise ReleaseNotFound(f"no release with id {release_id}")
        rows = [p for p in release.platforms if platform in (None, p.platform)]
        if not rows:
            raise ReleaseNotFound(f"release {release.version} has no {platform} platform")
        if platform is None:  # all platforms where the verb applies; refuse only if none
            rows = [p for p in rows if p.state in (states or FROM_STATES[verb])] or rows[:1]
        for row in rows:
            subject = f"release {release.version} on {row.platform}"
            allowed_states = states or FROM_STATES[verb]
            if row.state not in allowed_states:
                raise ReleaseRefused(
                    f"{subject} is {row.state}; {verb} applies only when it is {' or '.join(allowed_states)}"
                )
            if verb in ("start", "rollout", "resume"):
                # More users get this version: the web it needs must still be deployed.
                from orchestrator.parity.protection import check_parity_before

                verdict = check_parity_before(session, release.id, row.platform, "rollout_increase", now)
                if not verdict.passed:
                    session.commit()  # keep the audited parity decision
                    raise ReleaseRefused(f"{subject}: web parity does not hold: {verdict.reason}")
            if (
                verb == "rollout"
                and store_name(row.platform) != "google_play"
                and fraction is not None
                and fraction < 1
            ):
                raise ReleaseRefused(
                    f"{subject}: the App Store's phased release moves by day on Apple's schedule "
                    "(1, 2, 5, 10, 20, 50, 100 %); pause, resume or complete it instead"
                )
            status = ledger_rows.status_of(session, row.id)
            if (
                verb == "rollout"
                and status is not None
                and status.fraction is not None
                and fraction is not None
            ):
                if fraction <= status.fraction + 1e-9:
                    raise ReleaseRefused(
                        f"{subject} is at {percent(status.fraction)} already; a rollout only goes up (asked {percent(fraction)})"
                    )
            busy = ledger_rows.open_action(session, release.id, row.platform)
            if busy is not None:
                raise ReleaseRefused(
                    f"{subject}: the store action {busy.action} is {busy.state}; wait for it to settle"
                    + (" (a release manager must check the store)" if busy.state == "unknown" else "")
                )
            action_name = _verb_action(session, release.id, row.platform, verb, fraction)
            action, created = ledger_rows.claim(
                session,
                release_id=release.id,
                platform=row.platform,
                action=action_name,
                store=store_name(row.platform),
                who=who.name,
                request={"verb": verb, "fraction": fraction, "by": who.name, "role": who.role},
                now=now,
            )
            if not created:
                raise ReleaseRefused(f"{subject}: {action_name} was asked already ({action.state})")
            claimed.append(Claimed(row.id, row.platform, action, fraction))
        session.commit()
    return claimed


def _call(store, cand, verb: str, fraction: float | None) -> Rollout:  # type: ignore[no-untyped-def]
    match verb:
        case "start":
            return store.start_rollout(cand, fraction=fraction)
        case "rollout":
            return store.increase_rollout(cand, fraction=fraction)
        case "halt":
            return store.halt_rollout(cand)
        case "resume":
            return store.resume_rollout(cand)
        case _:
            return store.complete_rollout(cand)


def send(ctx: Context, claimed: Claimed, who: Person, verb: str) -> str | None:
    """Send one claimed action to the store and record the answer; returns the error, if any."""
    with ctx.db.session() as session:
        action = session.merge(claimed.action)
        if not ledger_rows.cas(session, action, "intended", "sent"):
            session.rollback()
            return f"{action.action} was taken by another request"
        session.commit()
    try:
        target, store = store_for(ctx, claimed.platform_id)
        cand = candidate_for(ctx, target, None)
    except (StoreUnavailable, StoreError) as exc:
        return _record(ctx, claimed, action, who, verb, None, str(exc), "needs_action")
    try:
        answer = _call(store, cand, verb, claimed.fraction)
    except StoreError as exc:
        return _record(ctx, claimed, action, who, verb, None, str(exc), exc.category.value)
    except Exception as exc:  # no answer: the store may have applied it; a read settles it
        why = f"{store.name} {verb} ended without an answer ({type(exc).__name__}: {exc})"
        try:
            answer = store.rollout_state(cand)
        except Exception:
            with ctx.db.session() as session:
                action = session.merge(action)
                ledger_rows.cas(session, action, "sent", "unknown", reason=why)
                session.commit()
            return why + "; outcome unknown until the store can be read"
    return _record(ctx, claimed, action, who, verb, answer, None, None)


def _record(
    ctx: Context,
    claimed: Claimed,
    action: StoreAction,
    who: Person,
    verb: str,
    answer: Rollout | None,
    error: str | None,
    category: str | None,
) -> str | None:
    now = utcnow()
    with ctx.db.session() as session:
        row = session.scalar(
            select(ReleasePlatform).where(ReleasePlatform.id == claimed.platform_id).with_for_update()
        )
        assert row is not None
        release = row.release
        action = session.merge(action)
        subject = f"{release.version} {row.platform}"
        if answer is None:
            ledger_rows.cas(session, action, "sent", "failed", now, reason=error, category=category)
            ledger_rows.keep_status(session, row.id, action.store, now, error=error)
            audit(
                session,
                release.project_id,
                release.id,
                who,
                f"{verb}_failed",
                subject,
                {"reason": error, "category": category},
                now,
            )
            notify(
                session,
                release,
                "release.rollout_failed",
                f"{verb} of release {release.version} on {row.platform} failed: {error}",
                platform=row.platform,
                category=category,
            )
            session.commit()
            return error
        answered = ledger_rows.plain(answer)
        ledger_rows.cas(session, action, "sent", "confirmed", now, answer=answered)
        status = ledger_rows.status_of(session, row.id)
        changed = status is None or status.fraction != answer.fraction or status.rollout != answer.state.value
        ledger_rows.keep_status(
            session,
            row.id,
            answer.store,
            now,
            rollout=answer.state.value,
            store_state=answer.store_state,
            fraction=answer.fraction,
            day=answer.day,
            error=None,
            **({"fraction_changed_at": now} if changed and verb in ("start", "rollout", "resume") else {}),
        )
        shown = percent(answer.fraction) if answer.state is not RolloutState.COMPLETED else "100%"
        details = {
            "store": answer.store,
            "store_state": answer.store_state,
            "fraction": answer.fraction,
            "day": answer.day,
        }
        audit(session, release.project_id, release.id, who, f"rollout_{verb}", subject, details, now)
        notify(
            session,
            release,
            "release.rollout",
            f"{who.name} ({who.role}) {verb}: release {release.version} on {row.platform} is {answer.store_state} at {shown}",
            platform=row.platform,
            verb=verb,
            **details,
        )
        new = PLATFORM_OF.get(answer.state)
        if new is not None and new != row.state:
            walk(session, release, row, new, None, now)
        session.commit()
    return None


def halt_in_store(ctx: Context, release_id: int, platform: str, who: Person) -> str | None:
    """Send a halt to the store for a platform Instep already marked `halted` (a web rollback,
    `orchestrator.parity.protection.halt_for_web_rollback`), after that change was committed."""
    claimed = claim(
        ctx, release_id, who, "halt", platform=platform, automatic=True, states=("halted", "rolling_out")
    )
    errors = [error for item in claimed if (error := send(ctx, item, who, "halt"))]
    return "; ".join(errors) or None


def act(
    ctx: Context,
    release_id: int,
    who: Person,
    verb: str,
    *,
    platform: str | None = None,
    percent_to: float | None = None,
    automatic: bool = False,
) -> list[str]:
    """A rollout request end to end: claim, send, record. Returns the store errors (empty when
    every platform's store accepted); refusals before any store call raise ReleaseError. Resume
    re-applies the fraction the release had when halted (the store keeps it)."""
    fraction = percent_to / 100 if percent_to is not None else None
    claimed = claim(ctx, release_id, who, verb, platform=platform, fraction=fraction, automatic=automatic)
    errors = []
    for item in claimed:
        error = send(ctx, item, who, verb)
        if error:
            errors.append(f"{item.platform}: {error}")
    return errors
