"""The `submit` stage kind: after the gate, hand the release candidate to the stores. Until
Instep's store adapters arrive it runs the team's own submission `lane:` (or `run:`) with the
release's version and build number passed in, and records the outcome on the release platform.
A submit stage must come after a `gate` stage (checked across stages by `gate_problems`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orchestrator.stages.base import Attempt, Outcome, Problem, command_problems, run_declared

if TYPE_CHECKING:
    from orchestrator.spec.model import StageSpec

NOT_YET = "submitting through Instep's store adapters is not available yet"


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
        from orchestrator.releases.submission import SubmissionRefused, begin, recorder

        try:
            release = begin(attempt.ctx, attempt.work.run_id, attempt.job.platform)
        except SubmissionRefused as exc:
            return Outcome("failed", str(exc))
        attempt.log.line(
            f"instep: submitting release {release.version} build {release.build_number} on {release.platform}"
        )
        spec = attempt.job.spec
        options = {**spec.lane_options, "version": release.version}
        if release.build_number is not None:
            options["build_number"] = str(release.build_number)
        job = attempt.job.model_copy(update={"spec": spec.model_copy(update={"lane_options": options})})
        env = {**attempt.env, **release.env()}
        outcome = run_declared(replace(attempt, work=replace(attempt.work, job=job), env=env))
        outcome = outcome or Outcome("failed", f"stage {attempt.job.stage!r}: {NOT_YET}")
        return replace(outcome, finish_with=recorder(release.platform_id, outcome.status, outcome.reason))


def gate_problems(stages: Mapping[str, StageSpec]) -> list[Problem]:
    """Every submit stage needs a gate stage, directly or through the stages it needs."""
    out = []
    for name, stage in stages.items():
        if stage.kind != "submit":
            continue
        seen: set[str] = set()
        todo = list(stage.needs)
        while todo:
            need = todo.pop()
            if need in seen or need not in stages:
                continue
            seen.add(need)
            todo.extend(stages[need].needs)
        if not any(stages[n].kind == "gate" for n in seen):
            path = ("stages", name, "needs") if stage.needs else ("stages", name)
            out.append(
                Problem(
                    path,
                    f"stage {name!r} needs no `gate` stage, so nothing would hold the release before the "
                    "stores (expected `needs:` to include a gate stage, directly or through other stages)",
                    "value" if stage.needs else "key",
                )
            )
    return out
