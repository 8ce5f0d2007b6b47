"""Checks that relate parts of a pipeline to each other: stage commands, needs, cycles, platforms.

Each problem names the path of the offending key or value so the loader can place it in the file."""

from __future__ import annotations

import itertools
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


def _listing(names: Collection[str], limit: int = 10) -> str:
    """The names for an "expected one of" hint, the first `limit` of them and how many in all."""
    shown = list(itertools.islice(names, limit))
    if not shown:
        return "none"
    more = len(names) - len(shown)
    return ", ".join(shown) + (f", ... ({len(names)} in all)" if more > 0 else "")


class _StageNames(list[str]):
    """Stage names in file order (for listings) that answer `in` from a set (files may hold
    a thousand stages, each with needs to check)."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(names)
        self._set = frozenset(names)

    def __contains__(self, name: object) -> bool:
        return name in self._set


def find_problems(
    stages: Mapping[str, StageSpec],
    stage_names: Sequence[str],
    platforms: Mapping[PlatformName, PlatformSpec] | None,
    known_devices: Collection[str] | None = None,
) -> list[Problem]:
    """Problems among validated `stages`; `stage_names` also lists stages that failed validation
    (so needing them is not reported twice) and `platforms` is None when that section was invalid."""
    problems: list[Problem] = []
    stage_names = _StageNames(stage_names)
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
    """One problem per group of stages that need each other, at the first of them in file
    order, with its shortest cycle. Linear in stages and needs (plus the searches inside groups)."""
    edges = {name: [n for n in dict.fromkeys(stage.needs) if n in stages] for name, stage in stages.items()}
    group = _strongly_connected(edges)
    reported: set[int] = set()
    out: list[Problem] = []
    for start in stages:
        g = group[start]
        if g in reported or not (start in edges[start] or any(group[n] == g for n in edges[start])):
            continue
        cycle = _shortest_cycle(start, edges, group, g)
        if cycle is None:
            continue
        reported.add(g)
        index = list(stages[start].needs).index(cycle[1])
        out.append(
            Problem(
                ("stages", start, "needs", index),
                f"needs form a cycle: {' -> '.join(cycle)} (expected each stage to need only earlier work)",
            )
        )
    return out


def _strongly_connected(edges: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Tarjan's strongly connected components, iteratively (no recursion limit): node -> group."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    group: dict[str, int] = {}
    counter = 0
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(edges[node])):
                nxt = edges[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group[member] = index[node]
                    if member == node:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return group


def _shortest_cycle(
    start: str, edges: Mapping[str, Sequence[str]], group: Mapping[str, int], within: int
) -> list[str] | None:
    """The shortest cycle through `start`, searched only inside its group (every cycle through
    `start` stays in it)."""
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
            if nxt not in parent and group[nxt] == within:
                parent[nxt] = node
                queue.append(nxt)
    return None
