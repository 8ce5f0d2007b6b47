"""Gate evaluation, pure: facts -> an ordered checklist of (check, passed|failed|pending, reason)
per platform. The gate passes only when every check passes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from orchestrator.releases.checks import REGISTRY
from orchestrator.releases.facts import CheckState, GateFacts

OTHER_PLATFORM = "other_platform"


@dataclass(frozen=True)
class CheckLine:
    check: str
    title: str
    state: CheckState
    reason: str


@dataclass(frozen=True)
class Checklist:
    platform: str
    lines: tuple[CheckLine, ...]

    @property
    def passed(self) -> bool:
        return all(line.state == "passed" for line in self.lines)

    @property
    def state(self) -> CheckState:
        if self.passed:
            return "passed"
        return "failed" if any(line.state == "failed" for line in self.lines) else "pending"

    def blocking(self) -> str | None:
        """The first line that is not passed, as a one-line reason (None when the gate passes)."""
        for line in self.lines:
            if line.state != "passed":
                return f"{line.title}: {line.reason}"
        return None

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {"check": line.check, "title": line.title, "state": line.state, "reason": line.reason}
            for line in self.lines
        ]


def evaluate(facts: GateFacts, skip: frozenset[str] = frozenset()) -> Checklist:
    """Every registered check (but `skip`) on one platform's facts, in registration order."""
    lines = []
    for name, entry in REGISTRY.items():
        if name in skip:
            continue
        result = entry.run(facts)
        lines.append(CheckLine(name, entry.title, result.state, result.reason))
    return Checklist(facts.platform, tuple(lines))


def evaluate_release(facts: Mapping[str, GateFacts]) -> dict[str, Checklist]:
    """Each platform's checklist; "other platform ready" compares the platforms' own checks."""
    own = {p: evaluate(f, skip=frozenset({OTHER_PLATFORM})) for p, f in facts.items()}
    out = {}
    for platform, f in facts.items():
        others = {p: own[p].blocking() for p in facts if p != platform}
        out[platform] = evaluate(replace(f, others_ready=others))
    return out
