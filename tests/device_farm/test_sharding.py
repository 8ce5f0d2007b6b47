import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device_farm.sharding import ShardingError, lower_bound, makespan, plan_shards, split_by_count

durations_st = st.dictionaries(
    st.text(alphabet="abcdefghij", min_size=1, max_size=6),
    st.floats(min_value=0.0, max_value=1000.0, allow_nan=False),
    min_size=0,
    max_size=60,
)


@given(durations_st, st.integers(min_value=1, max_value=16))
def test_every_test_is_assigned_to_exactly_one_shard(durations, shards):
    plan = plan_shards(list(durations), durations, shards)
    assigned = [t for s in plan.shards for t in s.tests]
    assert sorted(assigned) == sorted(durations)
    assert len(plan.shards) == shards


@given(durations_st, st.integers(min_value=1, max_value=16))
def test_makespan_is_between_the_lower_bound_and_twice_it(durations, shards):
    plan = plan_shards(list(durations), durations, shards)
    bound = lower_bound(list(durations.values()), shards)
    assert plan.predicted_makespan_s >= bound - 1e-6
    # Any list schedule ends by total/m + longest <= 2 * bound.
    assert plan.predicted_makespan_s <= 2 * bound + 1e-6


def _optimal(values: list[float], shards: int) -> float:
    best = float("inf")
    for assignment in itertools.product(range(shards), repeat=len(values)):
        loads = [0.0] * shards
        for v, s in zip(values, assignment, strict=True):
            loads[s] += v
        best = min(best, max(loads))
    return best


@settings(max_examples=60)
@given(
    st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=7),
    st.integers(min_value=2, max_value=3),
)
def test_lpt_is_within_graham_bound_of_the_optimum(values, shards):
    durations = {f"t{i}": float(v) for i, v in enumerate(values)}
    plan = plan_shards(list(durations), durations, shards)
    assert (
        plan.predicted_makespan_s
        <= (4 / 3 - 1 / (3 * shards)) * _optimal(list(map(float, values)), shards) + 1e-9
    )


def test_unknown_tests_get_the_median_of_known_ones():
    plan = plan_shards(["a", "b", "c", "new"], {"a": 1.0, "b": 3.0, "c": 10.0}, 2)
    assert plan.estimated == frozenset({"new"})
    assert plan.estimate_s == 3.0
    assert sum(s.predicted_s for s in plan.shards) == pytest.approx(17.0)


def test_longest_first_beats_splitting_by_count_on_a_skewed_suite():
    durations = {"slow": 60.0, **{f"fast{i}": 1.0 for i in range(9)}}
    tests = list(durations)
    plan = plan_shards(tests, durations, 2)
    assert plan.predicted_makespan_s == 60.0
    assert makespan(split_by_count(tests, 2), durations) == 64.0
    assert plan.shards[plan.shard_of("slow")].tests == ("slow",)


def test_zero_shards_is_refused_with_a_message():
    with pytest.raises(ShardingError, match="at least 1"):
        plan_shards(["a"], {}, 0)
