"""Duration-based sharding (pure): split tests across shards so the slowest shard ends early.

Longest-processing-time-first (LPT): tests sorted by predicted duration, longest first, each
placed on the currently least loaded shard. LPT is within 4/3 - 1/(3m) of the optimal makespan."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Used for every test when nothing at all has been recorded for the project yet.
DEFAULT_TEST_SECONDS = 1.0


class ShardingError(ValueError):
    """The shard request cannot be satisfied (e.g. zero shards)."""


@dataclass(frozen=True)
class Shard:
    index: int
    tests: tuple[str, ...]
    predicted_s: float


@dataclass(frozen=True)
class ShardPlan:
    shards: tuple[Shard, ...]
    # Test ids whose duration was unknown and estimated as the median of the known ones.
    estimated: frozenset[str]
    estimate_s: float

    @property
    def predicted_makespan_s(self) -> float:
        return max((s.predicted_s for s in self.shards), default=0.0)

    def shard_of(self, test_id: str) -> int:
        for shard in self.shards:
            if test_id in shard.tests:
                return shard.index
        raise KeyError(test_id)


def predicted_durations(
    tests: Sequence[str], recorded: Mapping[str, float]
) -> tuple[dict[str, float], frozenset[str], float]:
    """Each test's predicted seconds: its recorded duration, else the median of the known ones."""
    known = [recorded[t] for t in tests if t in recorded and recorded[t] >= 0]
    estimate = statistics.median(known) if known else DEFAULT_TEST_SECONDS
    unknown = frozenset(t for t in tests if t not in recorded or recorded[t] < 0)
    return {t: (estimate if t in unknown else recorded[t]) for t in tests}, unknown, estimate


def plan_shards(tests: Sequence[str], recorded: Mapping[str, float], shards: int) -> ShardPlan:
    """Assign every test to exactly one of `shards` shards, longest first onto the least loaded."""
    if shards < 1:
        raise ShardingError(f"the number of shards must be at least 1, got {shards}")
    unique = list(dict.fromkeys(tests))
    durations, unknown, estimate = predicted_durations(unique, recorded)
    buckets = lpt(durations, shards)
    return ShardPlan(
        shards=tuple(
            Shard(index=i, tests=tuple(b), predicted_s=sum(durations[t] for t in b))
            for i, b in enumerate(buckets)
        ),
        estimated=unknown,
        estimate_s=estimate,
    )


def lpt(durations: Mapping[str, float], shards: int) -> list[list[str]]:
    """LPT list scheduling; ties broken by test id and shard index so plans are reproducible."""
    loads = [0.0] * shards
    buckets: list[list[str]] = [[] for _ in range(shards)]
    for test in sorted(durations, key=lambda t: (-durations[t], t)):
        target = min(range(shards), key=lambda i: (loads[i], i))
        buckets[target].append(test)
        loads[target] += durations[test]
    return buckets


def split_by_count(tests: Sequence[str], shards: int) -> list[list[str]]:
    """The naive alternative: contiguous chunks of (nearly) equal test count, in the given order."""
    if shards < 1:
        raise ShardingError(f"the number of shards must be at least 1, got {shards}")
    size, extra = divmod(len(tests), shards)
    out, start = [], 0
    for i in range(shards):
        end = start + size + (1 if i < extra else 0)
        out.append(list(tests[start:end]))
        start = end
    return out


def makespan(buckets: Sequence[Sequence[str]], durations: Mapping[str, float]) -> float:
    return max((sum(durations[t] for t in b) for b in buckets), default=0.0)


def lower_bound(durations: Sequence[float], shards: int) -> float:
    """No split can finish before max(total / shards, longest test)."""
    if not durations:
        return 0.0
    return max(sum(durations) / shards, max(durations))
