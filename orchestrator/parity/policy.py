"""The parity decision, pure: (release version, the environment's current web deployment,
`release.parity`) -> passed | failed | pending with a reason naming the web release it was
checked against. No clock, no database: `now` and the deployment are handed in.

Unmet needs are `pending` (the web may still deploy them, and the gate passes by itself when it
does); only a release trailing the web by more than `max_lag` (or at all, in train mode without
`max_lag`) is `failed`. With no deployment recorded the answer is `pending`, never `passed`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from orchestrator.parity.ranges import InvalidRange, compare, in_range, parse_contract_requirement, train_of
from orchestrator.parity.spec import ParitySpec

ParityState = Literal["passed", "failed", "pending"]


@dataclass(frozen=True)
class WebDeploymentFact:
    """One recorded web deployment, as the policy sees it."""

    id: int
    environment: str
    version: str
    deployed_at: datetime
    api_version: str | None = None
    contracts: Mapping[str, str] = field(default_factory=dict)
    features: tuple[str, ...] = ()
    commit: str | None = None

    @property
    def label(self) -> str:
        """`production web 2026.12.1 (api 2025-11)`: how reasons name the deployment."""
        api = f" (api {self.api_version})" if self.api_version else ""
        return f"{self.environment} web {self.version}{api}"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "environment": self.environment,
            "version": self.version,
            "api_version": self.api_version,
            "contracts": dict(self.contracts),
            "features": list(self.features),
            "commit": self.commit,
            "deployed_at": self.deployed_at.isoformat(),
        }


@dataclass(frozen=True)
class ParityVerdict:
    state: ParityState
    reason: str
    # The deployment the decision was made against (None when there was none).
    deployment_id: int | None = None

    @property
    def passed(self) -> bool:
        return self.state == "passed"


def span(delta: timedelta) -> str:
    """`3 days`, `5 hours`, `12 minutes`: how long, roughly, in words."""
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "less than a minute"


def lag_text(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = "".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
    return text or f"{seconds}s"


def evaluate(
    policy: ParitySpec | None,
    version: str | None,
    web: WebDeploymentFact | None,
    now: datetime,
    cut_at: datetime | None = None,
) -> ParityVerdict:
    """Whether the release `version` (cut at `cut_at`; None before there is a release) may ship
    against `web`, the current deployment of `policy.environment`."""
    if policy is None:
        return ParityVerdict("passed", "no web parity required (instep.yml has no release.parity)")
    if version is None:
        return ParityVerdict("pending", "checked once a release is cut")
    if web is None:
        return ParityVerdict("pending", f"no web deployment recorded for {policy.environment}")
    if web.environment != policy.environment:  # a caller error; never let it pass
        return ParityVerdict(
            "pending", f"no web deployment recorded for {policy.environment} (got {web.environment})", web.id
        )
    if policy.mode == "train":
        return _train(policy, version, web, now)
    return _api(policy, web, now, cut_at)


def _api(policy: ParitySpec, web: WebDeploymentFact, now: datetime, cut_at: datetime | None) -> ParityVerdict:
    since = span(now - web.deployed_at)
    missing: list[str] = []
    provided: list[str] = []
    if policy.requires_api is not None:
        need = f"api {policy.requires_api.replace('>=', '>= ')}"
        if web.api_version is None:
            missing.append(f"needs {need}, {web.label} records no api version")
        elif not _within(web.api_version, policy.requires_api):
            missing.append(f"needs {need}, {web.label} provides api {web.api_version} since {since}")
        else:
            provided.append(f"provides {need}")
    for name, requirement in sorted(policy.requires_contracts.items()):
        have = web.contracts.get(name)
        if have is None:
            missing.append(f"needs contract {name} {requirement}, {web.label} has no {name} contract")
        elif not parse_contract_requirement(requirement, name).met_by(have):
            missing.append(f"needs contract {name} {requirement}, {web.label} has {name} {have}")
        else:
            provided.append(f"contract {name} {have}")
    absent = [f for f in policy.requires_features if f not in web.features]
    if absent:
        missing.append(f"needs feature(s) {', '.join(absent)}, not in {web.label}")
    elif policy.requires_features:
        provided.append(f"feature(s) {', '.join(policy.requires_features)}")
    if missing:
        return ParityVerdict("pending", "; ".join(missing), web.id)
    text = f"{web.label} " + (", ".join(provided) if provided else "is deployed (nothing more required)")
    if policy.max_lag is not None and cut_at is not None and web.deployed_at > cut_at:
        trail = now - web.deployed_at
        if trail > timedelta(seconds=policy.max_lag):
            return ParityVerdict(
                "failed",
                f"the release trails {web.label}, deployed after it was cut, by {span(trail)} "
                f"(more than max_lag {lag_text(policy.max_lag)})",
                web.id,
            )
    return ParityVerdict("passed", text, web.id)


def _train(policy: ParitySpec, version: str, web: WebDeploymentFact, now: datetime) -> ParityVerdict:
    try:
        mine = train_of(version, policy.train)
        theirs = train_of(web.version, policy.train)
        order = compare(theirs, mine)
    except InvalidRange as exc:
        return ParityVerdict("failed", f"cannot compare trains: {exc}", web.id)
    since = span(now - web.deployed_at)
    if order == 0:
        return ParityVerdict("passed", f"{web.label} is on train {theirs}, the train of {version}", web.id)
    if order < 0:
        return ParityVerdict(
            "pending", f"needs web release train {mine}, {web.environment} has {theirs} since {since}", web.id
        )
    trail = now - web.deployed_at
    if policy.max_lag is None:
        return ParityVerdict(
            "failed",
            f"{web.label} is on train {theirs} since {since}, past train {mine} of {version} "
            "(set release.parity.max_lag to let a release trail the web)",
            web.id,
        )
    if trail > timedelta(seconds=policy.max_lag):
        return ParityVerdict(
            "failed",
            f"{web.label} is on train {theirs} since {since}; train {mine} of {version} trails it by more "
            f"than max_lag {lag_text(policy.max_lag)}",
            web.id,
        )
    return ParityVerdict(
        "passed",
        f"{web.label} is on train {theirs}; {version} (train {mine}) trails it by {since} "
        f"(max_lag {lag_text(policy.max_lag)})",
        web.id,
    )


def _within(version: str, requirement: str) -> bool:
    try:
        return in_range(version, requirement)
    except InvalidRange:
        return False


@dataclass(frozen=True)
class ShippedRelease:
    """A release platform already past its gate (at a store, or about to be)."""

    release_id: int
    version: str
    platform: str
    state: str
    policy: ParitySpec
    cut_at: datetime
    # Whether it is halted already for the web (set by an earlier decision).
    halted_for_web: bool = False


@dataclass(frozen=True)
class Halt:
    release_id: int
    version: str
    platform: str
    reason: str
    deployment_id: int | None


def releases_to_halt(
    shipped: tuple[ShippedRelease, ...],
    web: WebDeploymentFact | None,
    environment: str,
    now: datetime,
    rolled_back_to: str | None,
) -> list[Halt]:
    """Which shipped release platforms of `environment` the web no longer serves, and why: after
    a rollback `halted: web rolled back to X`, otherwise `halted: ` and the parity reason."""
    halts = []
    for item in shipped:
        if item.halted_for_web or item.policy.environment != environment:
            continue
        verdict = evaluate(item.policy, item.version, web, now, item.cut_at)
        if verdict.passed:
            continue
        if rolled_back_to is not None:
            reason = (
                f"halted: web rolled back to {rolled_back_to}"
                if web is not None
                else (f"halted: web rolled back; {verdict.reason}")
            )
        else:
            reason = f"halted: {verdict.reason}"
        halts.append(Halt(item.release_id, item.version, item.platform, reason, verdict.deployment_id))
    return halts
