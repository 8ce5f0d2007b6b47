"""The `acceptance` stage kind: the repository's pytest suite on the stage's device profiles,
split by recorded durations across `shards` leased devices inside one job (so the split sees
the whole suite). With `run:` or `lane:` it runs that instead, still on the `devices` queue."""

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

DEFAULT_SUITE = "tests/acceptance"


class AcceptanceStage:
    name = "acceptance"
    accepts: frozenset[str] = frozenset({"suite", "app", "test_retries"})
    defaults: Mapping[str, Any] = MappingProxyType({})
    wait_reason = None

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
            return Outcome("failed", f"stage {attempt.job.key!r} names no `devices:` to run its suite on")
        from orchestrator.stages.device_suite import run_device_suite

        return run_device_suite(attempt, default_suite=DEFAULT_SUITE, per_profile=False)
