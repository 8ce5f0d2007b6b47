"""Stage kinds: one module per kind (`command`, `lane`, `acceptance`, `screenshots`, `gate`,
`submit`) behind the `StageKind` interface, and the registry that the spec checks, the planner,
the scheduler and the executor ask. Importing this package is cheap and pure; a kind's runner
imports fastlane, the device farm or the database lazily, when it runs."""

from orchestrator.stages.base import Attempt, JobWork, Outcome, Problem, StageKind
from orchestrator.stages.registry import CUSTOM_KIND, KINDS, UnknownStageKind, stage_kind, wait_reason

__all__ = [
    "CUSTOM_KIND",
    "KINDS",
    "Attempt",
    "JobWork",
    "Outcome",
    "Problem",
    "StageKind",
    "UnknownStageKind",
    "stage_kind",
    "wait_reason",
]
