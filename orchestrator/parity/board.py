"""Reading parity: the board (per environment, the web's current deployment next to the latest
iOS and Android releases, with the parity verdict and the drift), and `can-i-ship` (the parity
check for a version before a release exists, against the policy in the default branch's
instep.yml)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from orchestrator.context import Context
from orchestrator.db.models import Project, utcnow
from orchestrator.parity import service
from orchestrator.parity.models import WebDeployment
from orchestrator.parity.policy import ParityVerdict, evaluate, span
from orchestrator.parity.ranges import InvalidRange, parse_version
from orchestrator.parity.spec import ParitySpec
from orchestrator.releases.models import GateEvaluation, Release, ReleasePlatform
from orchestrator.spec.release import ReleaseSpec

PLATFORMS = ("ios", "android")
ENDED = ("canceled", "superseded")
PARITY_CHECK = "web_parity"
RECENT_RELEASES = 20


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _latest_release(
    session: Session, project_id: int, platform: str
) -> tuple[Release, ReleasePlatform] | None:
    row = session.execute(
        select(Release, ReleasePlatform)
        .join(ReleasePlatform, ReleasePlatform.release_id == Release.id)
        .where(
            Release.project_id == project_id,
            Release.state.not_in(ENDED),
            ReleasePlatform.platform.in_([platform, "all"]),
        )
        .order_by(Release.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def _drift(
    session: Session, project_id: int, environment: str, release: Release, now: datetime
) -> dict[str, Any]:
    """How far the mobile release trails the web: web versions deployed since it was cut, and
    for how long."""
    since = session.scalars(
        select(WebDeployment)
        .where(
            WebDeployment.project_id == project_id,
            WebDeployment.environment == environment,
            WebDeployment.deployed_at > release.created_at,
            WebDeployment.status == "deployed",
        )
        .order_by(WebDeployment.deployed_at)
    ).all()
    versions = list(dict.fromkeys(d.version for d in since))
    first = _aware(since[0].deployed_at) if since else None
    return {
        "web_versions_since_cut": versions,
        "versions_behind": len(versions),
        "behind_since": first.isoformat() if first else None,
        "behind_for": span(now - first) if first else None,
    }


def _verdict(verdict: ParityVerdict) -> dict[str, Any]:
    return {"state": verdict.state, "reason": verdict.reason, "deployment_id": verdict.deployment_id}


def decisions(session: Session, project_id: int, limit: int = RECENT_RELEASES) -> list[dict[str, Any]]:
    """The project's recent releases, newest first, each platform with the parity decision its
    gate last recorded (state, reason, when) and the web deployment it was checked against
    (None until the gate evaluated it)."""
    releases = list(
        session.scalars(
            select(Release).where(Release.project_id == project_id).order_by(Release.id.desc()).limit(limit)
        )
    )
    latest = (
        select(func.max(GateEvaluation.id))
        .where(GateEvaluation.release_id.in_([r.id for r in releases]))
        .group_by(GateEvaluation.release_id, GateEvaluation.platform)
    )
    kept = {
        (e.release_id, e.platform): e
        for e in session.scalars(select(GateEvaluation).where(GateEvaluation.id.in_(latest)))
    }
    out = []
    for release in releases:
        platforms = []
        for row in release.platforms:
            evaluation = kept.get((release.id, row.platform))
            line = None
            if evaluation is not None:
                line = next((c for c in evaluation.checklist if c.get("check") == PARITY_CHECK), None)
            platforms.append(
                {
                    "platform": row.platform,
                    "state": row.state,
                    "parity": None
                    if line is None or evaluation is None
                    else {
                        "state": line.get("state"),
                        "reason": line.get("reason"),
                        "decided_at": _aware(evaluation.at).isoformat(),
                        "web": (evaluation.facts or {}).get("web"),
                    },
                }
            )
        out.append(
            {
                "id": release.id,
                "version": release.version,
                "state": release.state,
                "cut_at": _aware(release.created_at).isoformat(),
                "platforms": platforms,
            }
        )
    return out


def board(session: Session, project_name: str, now: datetime | None = None) -> dict[str, Any]:
    """Per environment: the web's current deployment, the latest iOS and Android releases with
    their state, their parity verdict against that deployment, and the drift; then the recent
    releases with the parity decision each gate recorded (`decisions`)."""
    now = now or utcnow()
    project = service.project_named(session, project_name)
    latest = {p: _latest_release(session, project.id, p) for p in PLATFORMS}
    policies: dict[int, ParitySpec | None] = {}
    for found in latest.values():
        if found is not None:
            policies[found[0].id] = ReleaseSpec.model_validate(found[0].policy or {}).parity
    names = set(service.environments(session, project.id)) | {p.environment for p in policies.values() if p}
    environments = []
    for environment in sorted(names, key=lambda e: (e != "production", e)):
        current = service.current_deployment(session, project.id, environment)
        fact = service.fact_of(current) if current is not None else None
        platforms: list[dict[str, Any]] = []
        for platform, found in latest.items():
            if found is None:
                platforms.append({"platform": platform, "release": None, "parity": None, "drift": None})
                continue
            release, row = found
            policy = policies[release.id]
            verdict = None
            if policy is not None and policy.environment == environment:
                verdict = _verdict(evaluate(policy, release.version, fact, now, _aware(release.created_at)))
            platforms.append(
                {
                    "platform": platform,
                    "release": {
                        "id": release.id,
                        "version": release.version,
                        "state": row.state,
                        "reason": row.reason,
                        "release_state": release.state,
                        "cut_at": _aware(release.created_at).isoformat(),
                    },
                    "parity": verdict,
                    "drift": _drift(session, project.id, environment, release, now),
                }
            )
        environments.append(
            {
                "environment": environment,
                "web": service.to_json(current) if current is not None else None,
                "web_since": span(now - _aware(current.deployed_at)) if current is not None else None,
                "platforms": platforms,
            }
        )
    return {
        "project": project.name,
        "at": now.isoformat(),
        "environments": environments,
        "releases": decisions(session, project.id),
    }


class PolicyUnavailable(service.ParityError):
    status = 409


def default_branch_policy(ctx: Context, project: Project) -> tuple[ReleaseSpec, str]:
    """The `release:` section of instep.yml at the head of the project's default branch."""
    from orchestrator.releases import flows
    from orchestrator.releases.service import ReleaseRefused

    try:
        return flows.default_branch_policy(ctx, project)
    except ReleaseRefused as exc:
        raise PolicyUnavailable(str(exc)) from None


def can_i_ship(
    ctx: Context,
    session: Session,
    project_name: str,
    version: str,
    platform: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The parity check for `version` as if a release were cut now (the mobile counterpart of
    Pact's can-i-deploy): `ok` only when it would pass."""
    now = now or utcnow()
    try:
        parse_version(version, "version")
    except InvalidRange as exc:
        raise service.InvalidDeployment("version", str(exc)) from None
    if platform is not None and platform not in PLATFORMS:
        raise service.InvalidDeployment(
            "platform", f"{platform!r} is not a platform (expected ios or android)"
        )
    project = service.project_named(session, project_name)
    policy, where = default_branch_policy(ctx, project)
    parity = policy.parity
    web = service.web_fact(session, project.id, parity.environment) if parity is not None else None
    verdict = evaluate(parity, version, web, now)
    return {
        "project": project.name,
        "version": version,
        "platform": platform,
        "ok": verdict.passed,
        "state": verdict.state,
        "reasons": [part.strip() for part in verdict.reason.split(";")],
        "environment": parity.environment if parity is not None else None,
        "web": web.to_json() if web is not None else None,
        "policy": where,
    }
