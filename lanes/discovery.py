"""Which lanes a Fastfile defines, asked of fastlane itself (`fastlane lanes --json`)."""

from __future__ import annotations

import collections
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lanes.environment import lane_env
from lanes.errors import FastfileInvalid, LanesError
from lanes.fastfile import find_fastfile
from lanes.locate import FastlaneCommand
from toolrun.process import run_process

LIST_TIMEOUT_S = 120.0
# `fastlane lanes --json` prints its log first and the JSON last; keep only the end.
KEPT_LINES = 5000


@dataclass(frozen=True)
class LaneInfo:
    """A lane as `fastlane lanes` describes it; `platform` is None for lanes outside a platform."""

    platform: str | None
    name: str
    description: str

    @property
    def full_name(self) -> str:
        return f"{self.platform} {self.name}" if self.platform else self.name


def parse_lanes_json(output: str) -> list[LaneInfo]:
    """Lanes from the output of `fastlane lanes --json` (fastlane 2.146 prints the JSON document to
    stdout after its log lines). Raises ValueError when the output holds no such document."""
    lines = output.splitlines()
    for start in reversed(range(len(lines))):
        if not lines[start].startswith("{"):
            continue
        try:
            document = json.loads("\n".join(lines[start:]))
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict):
            return [
                LaneInfo(platform or None, name, (info or {}).get("description", "") or "")
                for platform, lanes in document.items()
                for name, info in lanes.items()
            ]
    raise ValueError("no JSON lane list in the output of `fastlane lanes --json`")


def list_lanes(
    workspace: Path | str,
    fastlane: FastlaneCommand,
    *,
    env: Mapping[str, str],
    timeout: float = LIST_TIMEOUT_S,
) -> list[LaneInfo]:
    """The lanes of the workspace's Fastfile. Raises `FastfileNotFound`, or `FastfileInvalid` with
    fastlane's own error when the Fastfile does not load."""
    workspace = Path(workspace)
    fastfile = find_fastfile(workspace)
    kept: collections.deque[str] = collections.deque(maxlen=KEPT_LINES)
    errors: list[str] = []

    def on_line(line: str) -> None:
        kept.append(line)
        if line.startswith("[!] "):
            errors.append(line[4:].strip())

    result = run_process(
        [*fastlane.argv, "lanes", "--json"],
        cwd=workspace,
        env=lane_env(env),
        on_line=on_line,
        timeout=timeout,
    )
    if result.timed_out:
        raise LanesError(
            f"`{' '.join(fastlane.argv)} lanes --json` did not finish within {timeout:g} s in {workspace}; "
            "check that the Fastfile does no work outside its lanes"
        )
    if result.exit_code != 0:
        detail = errors[-1] if errors else next((x for x in reversed(kept) if x.strip()), "no output")
        raise FastfileInvalid(fastfile, f"{detail} (fastlane exited with code {result.exit_code})")
    try:
        return parse_lanes_json("\n".join(kept))
    except ValueError as exc:
        raise FastfileInvalid(fastfile, str(exc)) from None
