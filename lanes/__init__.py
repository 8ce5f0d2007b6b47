"""Everything fastlane: locating it, Fastfile templates, running a lane as a subprocess and
reading its report, artifacts and test results.

The orchestrator's job executor calls `locate_fastlane` then `run_lane`, and shows the
`LaneResult`; `list_lanes` and `init_fastlane` back `instep lanes list|init`."""

from lanes.artifacts import Artifact
from lanes.command import lane_command
from lanes.discovery import LaneInfo, list_lanes
from lanes.environment import lane_env
from lanes.errors import (
    FastfileInvalid,
    FastfileNotFound,
    FastlaneNotFound,
    LaneOptionError,
    LanesError,
    TemplateError,
    UnknownLane,
)
from lanes.fastfile import find_fastfile
from lanes.locate import FastlaneCommand, locate_fastlane
from lanes.outcome import LaneResult
from lanes.report import Step
from lanes.runner import run_lane
from toolrun.junit import JUnitError, TestCase, parse_junit, read_junit

__all__ = [
    "Artifact",
    "FastfileInvalid",
    "FastfileNotFound",
    "FastlaneCommand",
    "FastlaneNotFound",
    "JUnitError",
    "LaneInfo",
    "LaneOptionError",
    "LaneResult",
    "LanesError",
    "Step",
    "TemplateError",
    "TestCase",
    "UnknownLane",
    "find_fastfile",
    "lane_command",
    "lane_env",
    "list_lanes",
    "locate_fastlane",
    "parse_junit",
    "read_junit",
    "run_lane",
]
