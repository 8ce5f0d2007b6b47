"""Checks that relate parts of a pipeline to each other: stage commands, needs, cycles, platforms.

Each problem names the path of the offending key or value so the loader can place it in the file."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from orchestrator.stages import KINDS, Problem, stage_kind
from orchestrator.stages.base import KIND_SPECIFIC_KEYS
from orchestrator.stages.submit import gate_problems as submit_gate_problems

if TYPE_CHECKING:
    from orchestrator.spec.model import PlatformName, PlatformSpec, StageSpec

_STAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")

__all__ = ["Problem", "find_problems"]


def _listing(names: Collection[str]) -> str:
    return ", ".join(names) if names else "none"


def find_problems(
    stages: Mapping[str, StageSpec],
    stage_names: Sequence[str],
    platforms: Mapping[PlatformName, PlatformSpec] | None,
    known_devices: Collection[str] | None = None,
) -> list[Problem]:
    """Problems among validated `stages`; `stage_names` also lists stages that failed validation
    (so needing them is not reported twice) and `platforms` is None when that section was invalid."""
    problems: list[Problem] = []
    for name in stage_names:
        if not isinstance(name, str) or not _STAGE_NAME.match(name):
            problems.append(
                Problem(
                    ("stages", name),
                    f"stage name {name!r} is not valid (expected letters, digits, '_', '.' or '-')",
                    "key",
                )
            )
    for name, stage in stages.items():
        problems += _stage_problems(name, stage, stage_names, platforms, known_devices)
    if platforms is not None:
        problems += _lane_override_problems(stages, stage_names, platforms)
    problems += _cycle_problems(stages)
    problems += submit_gate_problems(stages)
    return problems


def _stage_problems(
    name: str,
    stage: StageSpec,
    stage_names: Sequence[str],
    platforms: Mapping[PlatformName, PlatformSpec] | None,
    known_devices: Collection[str] | None,
) -> list[Problem]:
    at = ("stages", name)
    kind = stage_kind(stage.kind)
    out = kind.check(name, stage)
    for key in KIND_SPECIFIC_KEYS:
        if getattr(stage, key) and key not in kind.accepts:
            takers = " or ".join(sorted(k.name for k in KINDS.values() if key in k.accepts))
            out.append(
                Problem(
                    (*at, key),
                    f"`{key}:` is for device stages (expected kind {takers}, not {stage.kind!r})",
                    "key",
                )
            )
    if stage.options and stage.lane is None:
        out.append(
            Problem(
                (*at, "options"),
                f"stage {name!r} has lane `options:` but no `lane:` (expected a `lane:`)",
                "key",
            )
        )
    for i, need in enumerate(stage.needs):
        if need not in stage_names:
            out.append(
                Problem(
                    (*at, "needs", i),
                    f"stage {name!r} needs {need!r}, which is not a stage (expected one of: {_listing(stage_names)})",
                )
            )
    if stage.platforms is not None:
        if not stage.per_platform:
            out.append(
                Problem(
                    (*at, "platforms"),
                    f"stage {name!r} runs once for all platforms, so `platforms:` has no effect "
                    "(expected either `platforms:` or `per_platform: false`)",
                    "key",
                )
            )
        elif not stage.platforms:
            out.append(Problem((*at, "platforms"), "platforms is empty (expected at least one platform)"))
        if platforms is not None:
            for i, platform in enumerate(stage.platforms):
                if platform not in platforms:
                    out.append(
                        Problem(
                            (*at, "platforms", i),
                            f"platform {platform!r} is not declared under `platforms:` "
                            f"(expected one of: {_listing(list(platforms))})",
                        )
                    )
    if known_devices is not None:
        for i, device in enumerate(stage.devices):
            if device not in known_devices:
                out.append(
                    Problem(
                        (*at, "devices", i),
                        f"unknown device profile {device!r} (expected one of: {_listing(sorted(known_devices))})",
                    )
                )
    return out


def _lane_override_problems(
    stages: Mapping[str, StageSpec],
    stage_names: Sequence[str],
    platforms: Mapping[PlatformName, PlatformSpec],
) -> list[Problem]:
    out: list[Problem] = []
    for platform, spec in platforms.items():
        for stage_name in spec.lanes:
            at = ("platforms", platform, "lanes", stage_name)
            if stage_name not in stage_names:
                out.append(
                    Problem(
                        at,
                        f"lane override for {stage_name!r}, which is not a stage "
                        f"(expected one of: {_listing(stage_names)})",
                        "key",
                    )
                )
            elif stage_name in stages and stages[stage_name].lane is None:
                out.append(
                    Problem(
                        at,
                        f"stage {stage_name!r} runs no lane, so its lane cannot be overridden "
                        "(expected a stage with `lane:`)",
                        "key",
                    )
                )
    return out


def _cycle_problems(stages: Mapping[str, StageSpec]) -> list[Problem]:
    edges = {name: [n for n in dict.fromkeys(stage.needs) if n in stages] for name, stage in stages.items()}
    reported: set[str] = set()
    out: list[Problem] = []
    for start in stages:
        if start in reported:
            continue
        cycle = _shortest_cycle(start, edges)
        if cycle is None:
            continue
        reach = _reachable(start, edges)
        reported |= {n for n in reach if start in _reachable(n, edges)}
        index = list(stages[start].needs).index(cycle[1])
        out.append(
            Problem(
                ("stages", start, "needs", index),
                f"needs form a cycle: {' -> '.join(cycle)} (expected each stage to need only earlier work)",
            )
        )
    return out


def _reachable(start: str, edges: Mapping[str, Sequence[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(edges[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges[node])
    return seen


def _shortest_cycle(start: str, edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in edges[node]:
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return None
