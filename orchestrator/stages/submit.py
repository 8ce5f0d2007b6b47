"""The `submit` stage kind, until the releases work replaces this module: a submit stage runs
the team's own submission `lane:` (or `run:`) on its platform's queue. Submitting through
Instep's store adapters arrives with releases, so a submit stage without `run:`/`lane:` is
refused by `instep validate` and at planning."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orchestrator.stages.base import Attempt, Outcome, Problem, command_problems, run_declared

if TYPE_CHECKING:
    from orchestrator.spec.model import StageSpec

NOT_YET = (
    "submitting through Instep's store adapters arrives with releases, which this version of "
    "Instep does not have yet"
)


class SubmitStage:
    name = "submit"
    accepts: frozenset[str] = frozenset()
    defaults: Mapping[str, Any] = MappingProxyType({})
    wait_reason = None

    def check(self, name: str, stage: StageSpec) -> list[Problem]:
        if stage.run is None and stage.lane is None:
            return [
                Problem(
                    ("stages", name),
                    f"stage {name!r}: {NOT_YET} (expected your submission `lane:` or a `run:` command)",
                    "key",
                )
            ]
        return command_problems(name, stage, required=True)

    def default_queue(self, platform: str | None) -> str:
        return platform or "default"

    def leases_devices(self, stage: StageSpec) -> bool:
        return False

    def run(self, attempt: Attempt) -> Outcome:
        outcome = run_declared(attempt)
        return outcome or Outcome("failed", f"stage {attempt.job.stage!r}: {NOT_YET}")
