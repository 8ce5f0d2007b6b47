"""The custom step (`kind: run`, any stage name that is not a kind): runs its `run:` command in
the job's checkout, or a `lane:`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orchestrator.stages.base import Attempt, Outcome, Problem, command_problems, run_declared

if TYPE_CHECKING:
    from orchestrator.spec.model import StageSpec


class CommandStage:
    name = "run"
    accepts: frozenset[str] = frozenset()
    defaults: Mapping[str, Any] = MappingProxyType({})
    wait_reason = None

    def check(self, name: str, stage: StageSpec) -> list[Problem]:
        return command_problems(
            name, stage, required=True, hint="; or set `kind:` to one of the built-in stage kinds"
        )

    def default_queue(self, platform: str | None) -> str:
        return "default"

    def leases_devices(self, stage: StageSpec) -> bool:
        return False

    def run(self, attempt: Attempt) -> Outcome:
        outcome = run_declared(attempt)
        return outcome or Outcome("failed", f"stage {attempt.job.stage!r} has no `run:` command")


def run_command(attempt: Attempt) -> Outcome:
    """The job's `run:` through `/bin/sh -e -c`, its whole process tree killed on timeout or cancel."""
    from toolrun.process import run_process

    job = attempt.job
    assert job.spec.run is not None
    result = run_process(
        ["/bin/sh", "-e", "-c", job.spec.run],
        cwd=attempt.workspace,
        env=attempt.env,
        on_line=attempt.log.line,
        timeout=job.timeout_s,
        cancel=attempt.cancel,
        redactor=attempt.redactor,
        sandbox=attempt.sandbox,
    )
    if result.timed_out:
        return Outcome("failed", f"timed out after {job.timeout_s} s", timed_out=True)
    if result.canceled:
        return Outcome("canceled", "canceled while running")
    if result.exit_code != 0:
        last = next((line for line in reversed(result.tail) if line.strip()), "")
        detail = f": {last.strip()[:300]}" if last else ""
        return Outcome("failed", f"step exited with code {result.exit_code}{detail}", result.exit_code)
    return Outcome("succeeded", None, 0)
