"""What the gate knows about a release platform at one moment: plain frozen data, loaded by the
service and handed to the pure checks. Nothing here reads the clock or the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from orchestrator.parity.policy import WebDeploymentFact
from orchestrator.spec.release import ReleaseSpec

CheckState = Literal["passed", "failed", "pending"]


@dataclass(frozen=True)
class ReleaseFact:
    version: str
    state: str  # the release's state: active, canceled, superseded, ...
    cut_by: str
    cut_at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class JobFact:
    """A job the gate needs (directly or through other jobs) as it stands now."""

    key: str
    status: str
    allow_failure: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class ScreenshotFact:
    """One screenshot stage job: screens still awaiting QA review and screens QA rejected."""

    key: str
    unreviewed: int
    rejected: int


@dataclass(frozen=True)
class ApprovalFact:
    """A decision, in the order it was made. `override` marks an admin acting in the role."""

    role: str
    person: str
    decision: Literal["approve", "reject"]
    comment: str = ""
    override: bool = False
    override_reason: str | None = None


@dataclass(frozen=True)
class GateFacts:
    platform: str
    now: datetime
    policy: ReleaseSpec
    release: ReleaseFact | None
    jobs: tuple[JobFact, ...] = ()
    screenshots: tuple[ScreenshotFact, ...] = ()
    approvals: tuple[ApprovalFact, ...] = ()
    pushed_by: str | None = None
    # When the candidate was built; soak time counts from here.
    soak_started_at: datetime | None = None
    # Filled in by `gate.evaluate_release`: whether every other platform passes its own checks.
    others_ready: dict[str, str | None] = field(default_factory=dict)
    # The current web deployment of `policy.parity.environment` (None: none recorded, or no
    # parity policy), for the web-parity check.
    web: WebDeploymentFact | None = None


def to_json(facts: GateFacts) -> dict[str, Any]:
    """The facts as stored with a gate evaluation."""
    return {
        "platform": facts.platform,
        "now": facts.now.isoformat(),
        "policy": facts.policy.model_dump(mode="json"),
        "release": None
        if facts.release is None
        else {
            "version": facts.release.version,
            "state": facts.release.state,
            "cut_by": facts.release.cut_by,
            "cut_at": facts.release.cut_at.isoformat(),
        },
        "jobs": [[j.key, j.status, j.allow_failure] for j in facts.jobs],
        "screenshots": [[s.key, s.unreviewed, s.rejected] for s in facts.screenshots],
        "approvals": [
            {"role": a.role, "person": a.person, "decision": a.decision, "override": a.override}
            for a in facts.approvals
        ],
        "pushed_by": facts.pushed_by,
        "soak_started_at": facts.soak_started_at.isoformat() if facts.soak_started_at else None,
        "others_ready": facts.others_ready,
        # The web deployment the parity check was decided against (its id among them).
        "web": facts.web.to_json() if facts.web is not None else None,
    }
