"""The order stages are planned in: dependencies first, otherwise file order, in time linear in the
stages (a 71,150-stage file once took minutes to plan because every placement rescanned the file)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.planner import stage_order
from orchestrator.spec import StageSpec


def stages_from(needs: dict[str, list[str]]) -> dict[str, StageSpec]:
    return {name: StageSpec(run="true", needs=tuple(wanted)) for name, wanted in needs.items()}


def earliest_ready_first(stages: Mapping[str, StageSpec]) -> list[str]:
    """The order's definition, written the slow obvious way: place the first stage in file order
    whose needs are all placed, and repeat."""
    placed: list[str] = []
    while len(placed) < len(stages):
        ready = [n for n, s in stages.items() if n not in placed and all(d in placed for d in s.needs)]
        if not ready:
            raise ValueError("stuck")
        placed.append(ready[0])
    return placed


def test_dependencies_come_first_and_file_order_breaks_ties() -> None:
    stages = stages_from({"report": ["build"], "build": ["unit"], "lint": [], "unit": [], "docs": ["lint"]})
    assert stage_order(stages) == ["lint", "unit", "build", "report", "docs"]


def test_a_need_written_twice_counts_once() -> None:
    assert stage_order(stages_from({"b": ["a", "a"], "a": []})) == ["a", "b"]


@pytest.mark.parametrize(
    "needs",
    [{"a": ["b"], "b": ["a"], "c": []}, {"a": ["missing"], "b": []}, {"a": ["a"]}],
    ids=["cycle", "unknown", "itself"],
)
def test_unplaceable_stages_are_named(needs: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError, match="need unknown or cyclic stages"):
        stage_order(stages_from(needs))


@st.composite
def need_graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    names = [f"s{i}" for i in range(draw(st.integers(1, 12)))]
    pool = names + ["ghost"]
    return {name: draw(st.lists(st.sampled_from(pool), max_size=4)) for name in names}


@settings(max_examples=300, deadline=None)
@given(need_graphs())
def test_the_order_is_always_the_earliest_ready_stage_first(needs: dict[str, list[str]]) -> None:
    stages = stages_from(needs)
    try:
        expected = earliest_ready_first(stages)
    except ValueError:
        with pytest.raises(ValueError):
            stage_order(stages)
        return
    assert stage_order(stages) == expected


class CountingStages(Mapping[str, StageSpec]):
    """A stage mapping that counts how often a stage is looked at."""

    def __init__(self, stages: dict[str, StageSpec]) -> None:
        self.stages = stages
        self.reads = 0

    def __getitem__(self, name: str) -> StageSpec:
        self.reads += 1
        return self.stages[name]

    def __iter__(self) -> Iterator[str]:
        for name in self.stages:
            self.reads += 1
            yield name

    def __len__(self) -> int:
        return len(self.stages)


def test_each_stage_is_looked_at_a_bounded_number_of_times() -> None:
    # Written last-first, so a planner that rescans the file for every placement reads the
    # stages about n*n/2 times (2 million here); a linear one reads each a few times.
    n = 2000
    chain = {f"s{i}": [f"s{i - 1}"] if i else [] for i in reversed(range(n))}
    stages = CountingStages(stages_from(chain))
    assert stage_order(stages) == [f"s{i}" for i in range(n)]
    assert stages.reads <= 4 * n
