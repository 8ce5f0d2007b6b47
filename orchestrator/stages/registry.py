"""The stage-kind registry: every kind by its `kind:` name, in the order messages list them.

Adding a kind is one module in this package plus one line here."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from orchestrator.stages.acceptance import AcceptanceStage
from orchestrator.stages.base import StageKind
from orchestrator.stages.command import CommandStage
from orchestrator.stages.gate import GateStage
from orchestrator.stages.lane import LaneStage
from orchestrator.stages.screenshots import ScreenshotsStage
from orchestrator.stages.submit import SubmitStage

KINDS: Mapping[str, StageKind] = MappingProxyType(
    {
        kind.name: kind
        for kind in (
            LaneStage("build"),
            LaneStage("unit"),
            ScreenshotsStage(),
            AcceptanceStage(),
            GateStage(),
            SubmitStage(),
            CommandStage(),  # `run`: a custom step, the kind of any stage not named after a kind
        )
    }
)
CUSTOM_KIND = "run"


class UnknownStageKind(LookupError):
    """A job names a kind this version does not know (planned by another version of Instep)."""


def stage_kind(name: str) -> StageKind:
    """The kind called `name`; UnknownStageKind says which kinds there are."""
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise UnknownStageKind(
            f"stage kind {name!r} is not known to this version of Instep (known: {', '.join(KINDS)}); "
            "run the job on a worker of the version that planned it, or run the pipeline again"
        ) from None


def wait_reason(kinds: list[str]) -> str:
    """Why a run whose remaining jobs (of these kinds) wait for people is `waiting`."""
    reasons = dict.fromkeys(KINDS[k].wait_reason for k in kinds if k in KINDS and KINDS[k].wait_reason)
    return "; ".join(r for r in reasons if r) or "waiting for people"
