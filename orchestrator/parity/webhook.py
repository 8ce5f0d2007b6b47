"""GitHub `deployment_status` deliveries of a project's web repository, applied to the web
deployment registry: `success` records a deployment, `failure`/`error`/`inactive` of the current
deployment marks it rolled back; anything else is acknowledged and ignored. The delivery was
verified with the project's webhook secret before it reaches here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from orchestrator.context import Context
from orchestrator.db.models import Project, utcnow
from orchestrator.parity import flows, service
from orchestrator.parity.models import DEPLOYED
from orchestrator.parity.policy import Halt
from orchestrator.runs import Dispatch
from orchestrator.webhooks import DeploymentNotice

RECORDS = ("success",)
ROLLS_BACK = ("failure", "error", "inactive")


@dataclass(frozen=True)
class Sender:
    name: str
    role: str = "web_deployer"


@dataclass(frozen=True)
class Answer:
    status_code: int
    status: str
    reason: str | None = None
    dispatches: tuple[Dispatch, ...] = ()
    # Halted platforms whose store must be told once the answer's transaction is committed.
    halts: tuple[Halt, ...] = ()


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise service.InvalidDeployment(
            "deployment_status.created_at", f"{text!r} is not an ISO 8601 time"
        ) from None


def apply_deployment_status(
    ctx: Context, session: Session, project: Project, notice: DeploymentNotice, now: datetime | None = None
) -> Answer:
    """Apply one verified deployment status; raises `service.InvalidDeployment` naming the
    payload field that cannot be used (the route answers 422)."""
    now = now or utcnow()
    if project.web_repo != notice.repository:
        return Answer(
            202,
            "ignored",
            f"deployment statuses of {notice.repository} are not web deployments of project {project.name} "
            "(register its web repository with `instep project add ... --web-repo OWNER/NAME`)",
        )
    source_ref = f"github:deployment:{notice.deployment_id}"
    who = Sender(f"github:{notice.sender}" if notice.sender else "github")
    known = service.find_by_source(session, project.id, source_ref)
    if notice.state in RECORDS:
        if known is not None:
            return Answer(200, "duplicate", f"deployment {notice.deployment_id} is recorded already")
        if notice.version is None:
            raise service.InvalidDeployment(
                "deployment.payload.version",
                "missing: put the web release in the deployment's payload (`version`) or deploy a version tag",
            )
        data = service.DeploymentIn(
            environment=notice.environment,
            version=notice.version,
            api_version=notice.api_version,
            commit=notice.sha,
            contracts=dict(notice.contracts),
            features=notice.features,
            deployed_at=_when(notice.created_at),
            source_ref=source_ref,
        )
        try:
            change = flows.record(ctx, session, project.name, data, who, now)
        except service.InvalidDeployment as exc:
            raise service.InvalidDeployment(_payload_field(exc.field), str(exc).split(": ", 1)[-1]) from None
        return Answer(
            201,
            "recorded",
            f"{data.environment} web {data.version}",
            tuple(change.dispatches),
            tuple(change.halts),
        )
    if notice.state in ROLLS_BACK:
        current = service.current_deployment(session, project.id, notice.environment)
        if known is None or current is None or current.id != known.id or known.status != DEPLOYED:
            return Answer(
                202,
                "ignored",
                f"deployment {notice.deployment_id} is not the current one of {notice.environment}; nothing rolls back",
            )
        change = flows.roll_back(
            ctx,
            session,
            project.name,
            notice.environment,
            who,
            source_ref=source_ref,
            reason=f"GitHub deployment {notice.deployment_id} is {notice.state}",
            now=now,
        )
        return Answer(
            200,
            "rolled_back",
            f"{notice.environment} web back to {change.rolled_back_to}",
            tuple(change.dispatches),
            tuple(change.halts),
        )
    return Answer(
        202,
        "ignored",
        f"deployment status {notice.state!r} changes nothing (only success, failure, error, inactive do)",
    )


def _payload_field(name: str) -> str:
    return {
        "version": "deployment.payload.version",
        "api_version": "deployment.payload.api_version",
        "commit": "deployment.sha",
        "environment": "deployment_status.environment",
    }.get(name, f"deployment.payload.{name}")
