"""The `instep.yml` pipeline file, version 1: its schema, a loader that reports every problem as
`instep.yml:LINE:COL: message`, and the validated `PipelineSpec` the planner consumes."""

from orchestrator.spec.errors import SpecError, SpecIssue
from orchestrator.spec.loader import load_spec_file, parse_spec, parse_spec_bytes
from orchestrator.spec.model import PipelineSpec, PlatformSpec, StageSpec, Triggers

__all__ = [
    "PipelineSpec",
    "PlatformSpec",
    "SpecError",
    "SpecIssue",
    "StageSpec",
    "Triggers",
    "load_spec_file",
    "parse_spec",
    "parse_spec_bytes",
]
