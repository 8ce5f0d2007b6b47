"""The web deployment registry as stored: recording a deployment (which replaces the previous
one of its environment, history kept), marking one rolled back (explicitly, or implied by
re-deploying an older version), and reading the current one. Functions flush; the caller commits
(and then runs `flows.after_web_change`, which re-evaluates gates and protects shipped releases)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.db.models import Project, utcnow
from orchestrator.parity.models import DEPLOYED, ROLLED_BACK, WebDeployment
from orchestrator.parity.policy import WebDeploymentFact
from orchestrator.parity.ranges import InvalidRange, compare, parse_version

MAX_PAGE = 200
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
_COMMIT = re.compile(r"[0-9a-fA-F]{7,64}\Z")
_CONTRACT_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,99}\Z")
MAX_ITEMS = 100


class ParityError(Exception):
    """A parity request that cannot be applied; `status` is the HTTP status that fits."""

    status = 409


class ProjectNotFound(ParityError):
    status = 404


class InvalidDeployment(ParityError):
    """Bad input; `field` names the field (`version`, `api_version`, `contracts.orders`, ...)."""

    status = 422

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


class NothingToRollBack(ParityError):
    status = 409


class Person(Protocol):
    """Who records: `orchestrator.actors.Actor` or `releases.service.System`."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class DeploymentIn:
    """A deployment as reported, before it is checked (`check_deployment`)."""

    environment: str
    version: str
    api_version: str | None = None
    commit: str | None = None
    contracts: Mapping[str, str] = field(default_factory=dict)
    features: Sequence[str] = ()
    deployed_at: datetime | None = None
    source_ref: str | None = None


@dataclass(frozen=True)
class Recorded:
    deployment: WebDeployment
    # The deployment this one rolled back (it re-deployed an older version), if any.
    rolled_back: WebDeployment | None = None


def _aware(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def check_deployment(data: DeploymentIn) -> DeploymentIn:
    """Refuse what the gate could not compare, naming the field: 422 from the API, exit 2 from
    the command line."""
    if not isinstance(data.environment, str) or not _NAME.match(data.environment):
        raise InvalidDeployment(
            "environment",
            f"{data.environment!r} is not an environment name (expected e.g. production or staging)",
        )
    try:
        parse_version(data.version, "version")
    except InvalidRange as exc:
        raise InvalidDeployment("version", str(exc)) from None
    if len(data.version) > 100:
        raise InvalidDeployment("version", "is longer than 100 characters")
    if data.api_version is not None:
        try:
            parse_version(data.api_version, "api_version")
        except InvalidRange as exc:
            raise InvalidDeployment("api_version", str(exc)) from None
        if len(data.api_version) > 100:
            raise InvalidDeployment("api_version", "is longer than 100 characters")
    if data.commit is not None and not _COMMIT.match(data.commit):
        raise InvalidDeployment(
            "commit", f"{data.commit!r} is not a commit sha (expected 7 to 64 hex digits)"
        )
    if len(data.contracts) > MAX_ITEMS or len(data.features) > MAX_ITEMS:
        raise InvalidDeployment("contracts", f"at most {MAX_ITEMS} contracts and {MAX_ITEMS} features")
    for name, value in data.contracts.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidDeployment(
                "contracts", f"{name!r} is not a contract name (letters, digits, '.', '_', '-')"
            )
        if not isinstance(value, str) or not _CONTRACT_VALUE.match(value):
            raise InvalidDeployment(
                f"contracts.{name}",
                f"{value!r} is not a contract version or hash (expected e.g. v3, 3.1 or a hash)",
            )
    for flag in data.features:
        if not isinstance(flag, str) or not _NAME.match(flag):
            raise InvalidDeployment(
                "features", f"{flag!r} is not a feature flag name (letters, digits, '.', '_', '-')"
            )
    return data


def project_named(session: Session, name: str, lock: bool = False) -> Project:
    query = select(Project).where(Project.name == name)
    project = session.scalar(query.with_for_update() if lock else query)
    if project is None:
        raise ProjectNotFound(f"no project named {name!r}")
    return project


def current_deployment(session: Session, project_id: int, environment: str) -> WebDeployment | None:
    """What the environment runs: the latest `deployed_at` that is not rolled back (ties: the
    later recording)."""
    return session.scalar(
        select(WebDeployment)
        .where(
            WebDeployment.project_id == project_id,
            WebDeployment.environment == environment,
            WebDeployment.status == DEPLOYED,
        )
        .order_by(WebDeployment.deployed_at.desc(), WebDeployment.id.desc())
        .limit(1)
    )


def fact_of(row: WebDeployment) -> WebDeploymentFact:
    return WebDeploymentFact(
        id=row.id,
        environment=row.environment,
        version=row.version,
        deployed_at=_aware(row.deployed_at),
        api_version=row.api_version,
        contracts=dict(row.contracts or {}),
        features=tuple(row.features or ()),
        commit=row.commit,
    )


def web_fact(session: Session, project_id: int, environment: str) -> WebDeploymentFact | None:
    """The current deployment of `environment` as the gate's fact (None when none is recorded)."""
    row = current_deployment(session, project_id, environment)
    return fact_of(row) if row is not None else None


def record_deployment(
    session: Session, project: Project, data: DeploymentIn, who: Person, now: datetime | None = None
) -> Recorded:
    """Record that `data.version` was deployed to `data.environment`. It replaces the current
    deployment there unless it happened earlier (a late report: kept in history, the later
    `deployed_at` stays current). Re-deploying an older version marks the one it replaces
    rolled back."""
    now = now or utcnow()
    check_deployment(data)
    deployed_at = _aware(data.deployed_at) if data.deployed_at is not None else now
    # One recording at a time per project: "which one is current" is decided under this lock.
    session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    previous = current_deployment(session, project.id, data.environment)
    row = WebDeployment(
        project_id=project.id,
        environment=data.environment,
        version=data.version.strip(),
        commit=data.commit.lower() if data.commit else None,
        api_version=data.api_version.strip() if data.api_version else None,
        contracts=dict(data.contracts),
        features=list(dict.fromkeys(data.features)),
        deployed_at=deployed_at,
        status=DEPLOYED,
        recorded_by=who.name,
        recorded_at=now,
        source_ref=data.source_ref,
    )
    session.add(row)
    rolled_back = None
    if (
        previous is not None
        and deployed_at >= _aware(previous.deployed_at)
        and compare(row.version, previous.version) < 0
    ):
        _mark(previous, who, f"re-deployed older version {row.version}", now)
        rolled_back = previous
    _audit(
        session,
        project.id,
        who,
        "web_deployed",
        f"{row.environment} web {row.version}",
        {
            "version": row.version,
            "api_version": row.api_version,
            "rolled_back": rolled_back.version if rolled_back else None,
        },
        now,
    )
    session.flush()
    return Recorded(row, rolled_back)


def _mark(row: WebDeployment, who: Person, reason: str, now: datetime) -> None:
    row.status = ROLLED_BACK
    row.rolled_back_at = now
    row.rolled_back_by = who.name
    row.rolled_back_reason = reason[:500]


def mark_rolled_back(
    session: Session,
    project: Project,
    environment: str,
    who: Person,
    *,
    version: str | None = None,
    source_ref: str | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> WebDeployment:
    """Mark the current deployment of `environment` rolled back (it must be `version`, or come
    from `source_ref`, when given); the one before it becomes current again."""
    now = now or utcnow()
    session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    current = current_deployment(session, project.id, environment)
    if current is None:
        raise NothingToRollBack(f"no web deployment is recorded for {environment}; nothing to roll back")
    if version is not None and current.version != version:
        raise NothingToRollBack(
            f"{environment} runs web {current.version}, not {version}; only the current deployment can be rolled back"
        )
    if source_ref is not None and current.source_ref != source_ref:
        raise NothingToRollBack(f"{source_ref} is not the current deployment of {environment}")
    _mark(current, who, reason or f"marked rolled back by {who.name}", now)
    _audit(
        session,
        project.id,
        who,
        "web_rolled_back",
        f"{environment} web {current.version}",
        {"version": current.version, "deployment_id": current.id, "reason": current.rolled_back_reason},
        now,
    )
    session.flush()
    return current


def find_by_source(session: Session, project_id: int, source_ref: str) -> WebDeployment | None:
    return session.scalar(
        select(WebDeployment)
        .where(WebDeployment.project_id == project_id, WebDeployment.source_ref == source_ref)
        .order_by(WebDeployment.id.desc())
        .limit(1)
    )


def history(
    session: Session,
    project_id: int,
    environment: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[WebDeployment]:
    """Deployments newest first (by when they were recorded), paged by id."""
    query = (
        select(WebDeployment)
        .where(WebDeployment.project_id == project_id)
        .order_by(WebDeployment.id.desc())
        .limit(min(limit, MAX_PAGE))
    )
    if environment is not None:
        query = query.where(WebDeployment.environment == environment)
    if before_id is not None:
        query = query.where(WebDeployment.id < before_id)
    return list(session.scalars(query))


def environments(session: Session, project_id: int) -> list[str]:
    return sorted(
        session.scalars(
            select(WebDeployment.environment).where(WebDeployment.project_id == project_id).distinct()
        )
    )


def to_json(row: WebDeployment) -> dict[str, Any]:
    return {
        "id": row.id,
        "environment": row.environment,
        "version": row.version,
        "commit": row.commit,
        "api_version": row.api_version,
        "contracts": dict(row.contracts or {}),
        "features": list(row.features or []),
        "deployed_at": _aware(row.deployed_at).isoformat(),
        "status": row.status,
        "recorded_by": row.recorded_by,
        "rolled_back_at": _aware(row.rolled_back_at).isoformat() if row.rolled_back_at else None,
        "rolled_back_reason": row.rolled_back_reason,
    }


def _audit(
    session: Session,
    project_id: int,
    who: Person,
    action: str,
    subject: str,
    details: dict[str, Any],
    now: datetime,
) -> None:
    from orchestrator.releases.service import audit

    audit(session, project_id, None, who, action, subject, details, now)  # type: ignore[arg-type]
