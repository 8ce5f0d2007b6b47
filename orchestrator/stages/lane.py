"""Lane stages (`build`, `unit`): a fastlane lane (or a `run:` command) on the platform's own
queue. Also the fastlane adapter call any stage with `lane:` goes through."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orchestrator.stages.base import Attempt, Outcome, Problem, command_problems, run_declared

if TYPE_CHECKING:
    from orchestrator.spec.model import StageSpec


class LaneStage:
    """A stage that must run a lane or a command, on the `android`/`ios` queue of its platform."""

    accepts: frozenset[str] = frozenset()
    defaults: Mapping[str, Any] = MappingProxyType({})
    wait_reason = None

    def __init__(self, name: str) -> None:
        self.name = name

    def check(self, name: str, stage: StageSpec) -> list[Problem]:
        return command_problems(name, stage, required=True)

    def default_queue(self, platform: str | None) -> str:
        return platform or "default"

    def leases_devices(self, stage: StageSpec) -> bool:
        return False

    def run(self, attempt: Attempt) -> Outcome:
        outcome = run_declared(attempt)
        return outcome or Outcome("failed", f"stage {attempt.job.stage!r} has no `run:` or `lane:`")


def run_lane(attempt: Attempt) -> Outcome:
    """`fastlane <platform> <lane> key:value ...` unattended, with its steps and tests summarised."""
    from lanes import LanesError, locate_fastlane
    from lanes import run_lane as run_fastlane_lane

    job, out, redactor = attempt.job, attempt.log, attempt.redactor
    assert job.spec.lane is not None
    try:
        fastlane = locate_fastlane(attempt.workspace, configured=attempt.ctx.settings.fastlane)
        out.line(f"instep: fastlane: {fastlane.describe()}")
        result = run_fastlane_lane(
            fastlane,
            job.platform,
            job.spec.lane,
            dict(job.spec.lane_options),
            workspace=attempt.workspace,
            artifacts_dir=attempt.artifacts_dir,
            env=dict(attempt.env),
            on_line=out.line,
            timeout=job.timeout_s,
            cancel=attempt.cancel,
            redactor=redactor,
            sandbox=attempt.sandbox,
        )
    except LanesError as exc:
        return Outcome("failed", redactor(str(exc)))
    results = result.as_dict()
    if result.steps:
        out.line(
            "instep: steps: "
            + ", ".join(
                f"{s.name} {s.duration_s:.1f}s" + (" FAILED" if s.failure else "") for s in result.steps
            )
        )
    counts = results.get("test_counts") or {}
    if any(counts.values()):
        out.line("instep: tests: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    for problem in result.problems:
        out.line(f"instep: {redactor(problem)}")
    return Outcome(
        result.status, result.reason, result.exit_code, results=results, timed_out=result.timed_out
    )
