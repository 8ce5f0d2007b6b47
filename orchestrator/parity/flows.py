"""What the API, the CLI's server calls and the webhook ask of web parity, one function per
request: the registry change, then in the same transaction the gates waiting on this project
re-evaluated (a pending parity check can pass by itself) and shipped releases the web no longer
serves halted. Each returns the jobs to send once the caller has committed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.context import Context
from orchestrator.db.models import Job, Project, Run, utcnow
from orchestrator.parity import service
from orchestrator.parity.models import WebDeployment
from orchestrator.parity.policy import Halt
from orchestrator.parity.protection import halt_for_web_rollback
from orchestrator.runs import Dispatch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    deployment: WebDeployment
    # The version the environment runs after a rollback (explicit or implied), else None.
    rolled_back_to: str | None
    halts: list[Halt]
    dispatches: list[Dispatch]


def waiting_gate_runs(session: Session, project_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Job.run_id)
            .join(Run, Run.id == Job.run_id)
            .where(Run.project_id == project_id, Job.kind == "gate", Job.status == "waiting")
            .group_by(Job.run_id)
            .order_by(Job.run_id)
        )
    )


def after_web_change(
    ctx: Context,
    session: Session,
    project: Project,
    environment: str,
    rolled_back_to: str | None,
    now: datetime,
) -> tuple[list[Halt], list[Dispatch]]:
    """Re-evaluate the project's waiting gates, then halt shipped releases the web no longer serves."""
    from orchestrator.releases import settlement

    dispatches: list[Dispatch] = []
    for run_id in waiting_gate_runs(session, project.id):
        dispatches += settlement.settle_run(session, run_id, ctx.store.exists, now)
    halts = halt_for_web_rollback(session, project.id, environment, rolled_back_to=rolled_back_to, now=now)
    return halts, dispatches


def halt_in_stores(ctx: Context, halts: Sequence[Halt]) -> list[str]:
    """After the halts were committed: halt the Play rollout / pause the App Store phased release
    of each halted platform the store already has. Returns the stores' refusals (also audited)."""
    from orchestrator.releases.service import System
    from orchestrator.submissions.rollouts import halt_in_store

    errors = []
    for halt in halts:
        try:
            error = halt_in_store(ctx, halt.release_id, halt.platform, System())
        except Exception as exc:  # one store's trouble must not keep the others from halting
            log.exception(
                "release %s %s: store halt after a web rollback failed", halt.release_id, halt.platform
            )
            error = f"{type(exc).__name__}: {exc}"
        if error:
            errors.append(f"release {halt.version} {halt.platform}: {error}")
    return errors


def record(
    ctx: Context,
    session: Session,
    project_name: str,
    data: service.DeploymentIn,
    who: service.Person,
    now: datetime | None = None,
) -> Change:
    now = now or utcnow()
    project = service.project_named(session, project_name)
    recorded = service.record_deployment(session, project, data, who, now)
    current = service.current_deployment(session, project.id, data.environment)
    rolled_back_to = current.version if recorded.rolled_back is not None and current is not None else None
    halts, dispatches = after_web_change(ctx, session, project, data.environment, rolled_back_to, now)
    return Change(recorded.deployment, rolled_back_to, halts, dispatches)


def roll_back(
    ctx: Context,
    session: Session,
    project_name: str,
    environment: str,
    who: service.Person,
    *,
    version: str | None = None,
    source_ref: str | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Change:
    now = now or utcnow()
    project = service.project_named(session, project_name)
    row = service.mark_rolled_back(
        session, project, environment, who, version=version, source_ref=source_ref, reason=reason, now=now
    )
    current = service.current_deployment(session, project.id, environment)
    rolled_back_to = current.version if current is not None else "nothing (no earlier deployment is recorded)"
    halts, dispatches = after_web_change(ctx, session, project, environment, rolled_back_to, now)
    return Change(row, rolled_back_to, halts, dispatches)
