"""The `screenshots` stage kind: the repository's capture suite once on every device profile,
each capture compared with the branch baseline; changed, new or missing screens make the job
wait for QA review. With `run:` or `lane:` it runs that instead, still on the `devices` queue."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orchestrator.stages.base import (
    Attempt,
    Outcome,
    Problem,
    command_problems,
    run_declared,
    runs_declared_command,
)

if TYPE_CHECKING:
    from orchestrator.spec.model import StageSpec

DEFAULT_SUITE = "tests/capture"


class ScreenshotsStage:
    name = "screenshots"
    accepts: frozenset[str] = frozenset({"suite", "app", "test_retries"})
    defaults: Mapping[str, Any] = MappingProxyType({})
    wait_reason = "waiting for screenshot review"

    def check(self, name: str, stage: StageSpec) -> list[Problem]:
        return command_problems(name, stage, required=False)

    def default_queue(self, platform: str | None) -> str:
        return "devices"

    def leases_devices(self, stage: StageSpec) -> bool:
        return not runs_declared_command(stage)

    def run(self, attempt: Attempt) -> Outcome:
        declared = run_declared(attempt)
        if declared is not None:
            return declared
        if not attempt.job.spec.devices:
            return Outcome(
                "failed",
                "comparing screenshots with baselines is not available in this version of "
                "Instep; give the stage `devices:` to capture them",
            )
        from orchestrator.stages.device_suite import run_device_suite
        from orchestrator.stages.screenshot_comparison import compare_screenshots

        # A capture suite must see every profile, so it runs once per device profile (the
        # acceptance suite instead spreads its tests over the devices).
        captured = run_device_suite(attempt, default_suite=DEFAULT_SUITE, per_profile=True)
        if captured.status != "succeeded":
            return captured
        return compare_screenshots(attempt, captured.results or {})
