"""Keeping shipped releases in step with the web: when the web rolls back (or a deployment no
longer serves a shipped release's needs), every affected release platform is marked
`halted: web rolled back to X`, audited and notified; and the parity check is asked again right
before a store submission and before every rollout increase.

The store itself (halting the Play rollout, pausing the App Store phased release) is the
rollout code's job: it passes a `StoreHalt` to `halt_for_web_rollback`. Without one the halt is
recorded only (the audit says so)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.db.models import utcnow
from orchestrator.parity.policy import Halt, ParityVerdict, ShippedRelease, evaluate, releases_to_halt
from orchestrator.parity.service import web_fact
from orchestrator.releases.models import Release, ReleasePlatform
from orchestrator.releases.service import System, audit, notify
from orchestrator.releases.states import check_move
from orchestrator.spec.release import ReleaseSpec

# Past the gate: handed to a store, or about to be. A web rollback halts these.
SHIPPED = frozenset(
    {"ready_to_submit", "submitting", "submitted", "in_review", "approved_by_store", "rolling_out"}
)
HALT_PREFIX = "halted: "
# Called for each halted release platform that a store has seen: (release, platform row, reason).
StoreHalt = Callable[[Release, ReleasePlatform, str], None]
WEB = System(name="instep", role="web_parity")


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _policy(release: Release) -> ReleaseSpec:
    return ReleaseSpec.model_validate(release.policy or {})


def shipped_releases(
    session: Session, project_id: int
) -> list[tuple[Release, ReleasePlatform, ShippedRelease]]:
    """The project's active release platforms past their gate whose policy asks for web parity."""
    out = []
    for release in session.scalars(
        select(Release)
        .where(Release.project_id == project_id, Release.state == "active")
        .order_by(Release.id)
    ):
        parity = _policy(release).parity
        if parity is None:
            continue
        for row in release.platforms:
            if row.state in SHIPPED or row.state == "halted":
                item = ShippedRelease(
                    release_id=release.id,
                    version=release.version,
                    platform=row.platform,
                    state=row.state,
                    policy=parity,
                    cut_at=_aware(release.created_at),
                    halted_for_web=row.state == "halted" or (row.reason or "").startswith(HALT_PREFIX),
                )
                out.append((release, row, item))
    return out


def halt_for_web_rollback(
    session: Session,
    project_id: int,
    environment: str,
    *,
    rolled_back_to: str | None,
    store_halt: StoreHalt | None = None,
    now: datetime | None = None,
) -> list[Halt]:
    """Halt every shipped release platform of the project that the web in `environment` no
    longer serves: a rolling-out platform moves to `halted`, every affected platform and its
    release get the reason, each halt is audited (with the deployment it was checked against)
    and notified as `release.halted`. `store_halt` performs the store action (the rollout code
    passes it); without it nothing is sent to a store. Resuming is a release manager's decision."""
    now = now or utcnow()
    web = web_fact(session, project_id, environment)
    shipped = shipped_releases(session, project_id)
    halts = releases_to_halt(tuple(item for _, _, item in shipped), web, environment, now, rolled_back_to)
    rows = {(item.release_id, item.platform): (release, row) for release, row, item in shipped}
    for halt in halts:
        release, row = rows[(halt.release_id, halt.platform)]
        if row.state == "rolling_out":
            check_move(f"{release.version} {row.platform}", row.state, "halted")
            row.state = "halted"
        row.reason, row.updated_at = halt.reason, now
        release.reason = halt.reason
        store = "not sent: no store adapter is wired for rollouts yet"
        if store_halt is not None and row.state not in ("ready_to_submit",):
            store_halt(release, row, halt.reason)
            store = "halt sent to the store"
        audit(
            session,
            release.project_id,
            release.id,
            WEB,
            "halted_for_web",
            f"{release.version} {row.platform}",
            {
                "reason": halt.reason,
                "deployment_id": halt.deployment_id,
                "environment": environment,
                "store": store,
            },
            now,
        )
        notify(
            session,
            release,
            "release.halted",
            f"release {release.version} on {row.platform} {halt.reason}",
            platform=row.platform,
            reason=halt.reason,
            web_deployment_id=halt.deployment_id,
        )
    session.flush()
    return halts


StoreAction = Literal["submit", "rollout_increase"]


def check_parity_before(
    session: Session, release_id: int, platform: str, action: StoreAction, now: datetime | None = None
) -> ParityVerdict:
    """The parity check asked again right before a store action on one release platform (the
    submit stage calls it with "submit", the rollout code before every increase with
    "rollout_increase"). The decision is audited with the deployment it was checked against;
    the caller must not act unless it passed."""
    now = now or utcnow()
    release = session.get(Release, release_id)
    if release is None:
        raise LookupError(f"no release with id {release_id}")
    parity = _policy(release).parity
    web = web_fact(session, release.project_id, parity.environment) if parity is not None else None
    verdict = evaluate(parity, release.version, web, now, _aware(release.created_at))
    audit(
        session,
        release.project_id,
        release.id,
        WEB,
        f"parity_before_{action}",
        f"{release.version} {platform}",
        {"state": verdict.state, "reason": verdict.reason, "deployment_id": verdict.deployment_id},
        now,
    )
    session.flush()
    return verdict
