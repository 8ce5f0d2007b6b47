"""The `gate` stage kind, until the releases work replaces this module: a gate waits for the
release checklist and runs no command, and this version has no checklist, so `instep validate`
and planning refuse every gate stage with a message saying so (instead of a run failing at the
gate)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orchestrator.stages.base import Attempt, Outcome, Problem

if TYPE_CHECKING:
    from orchestrator.spec.model import StageSpec

NOT_YET = "gate stages arrive with releases, which this version of Instep does not have yet"


class GateStage:
    name = "gate"
    accepts: frozenset[str] = frozenset()
    # A gate holds the whole release, not one platform's build.
    defaults: Mapping[str, Any] = MappingProxyType({"per_platform": False})
    wait_reason = None

    def check(self, name: str, stage: StageSpec) -> list[Problem]:
        at = ("stages", name)
        declared = [key for key in ("run", "lane") if getattr(stage, key) is not None]
        if declared:
            return [
                Problem((*at, key), f"gate stage {name!r} runs no command (expected no `{key}:`)", "key")
                for key in declared
            ]
        return [Problem(at, f"stage {name!r}: {NOT_YET} (remove the stage for now)", "key")]

    def default_queue(self, platform: str | None) -> str:
        return "default"

    def leases_devices(self, stage: StageSpec) -> bool:
        return False

    def run(self, attempt: Attempt) -> Outcome:
        # Only reachable for a job planned before validation refused gates.
        return Outcome("failed", f"stage {attempt.job.stage!r}: {NOT_YET}")
