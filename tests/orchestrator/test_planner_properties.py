"""Property tests: for any valid pipeline the planned DAG is complete, ordered and unique."""

from __future__ import annotations

import graphlib
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.planner import Trigger, plan_run
from orchestrator.spec import SpecError, parse_spec

PLATFORMS = ["ios", "android"]


@st.composite
def pipelines(draw: st.DrawFn, acyclic: bool = True) -> dict[str, Any]:
    declared = draw(st.permutations(PLATFORMS).flatmap(lambda p: st.integers(1, 2).map(lambda n: p[:n])))
    count = draw(st.integers(1, 7))
    names = [f"s{i}" for i in range(count)]
    stages: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        candidates = names[:i] if acyclic else names
        stage: dict[str, Any] = {"run": f"echo {name}"}
        needs = draw(st.lists(st.sampled_from(candidates), max_size=3)) if candidates else []
        if needs:
            stage["needs"] = needs
        stage["shards"] = draw(st.integers(1, 4))
        if draw(st.booleans()):
            stage["per_platform"] = False
        elif draw(st.booleans()):
            stage["platforms"] = draw(
                st.lists(st.sampled_from(declared), min_size=1, max_size=2, unique=True)
            )
        stages[name] = stage
    order = draw(st.permutations(names))  # declared out of dependency order on purpose
    return {
        "version": 1,
        "platforms": {p: {} for p in declared},
        "stages": {name: stages[name] for name in order},
    }


def as_yaml(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False)


@settings(max_examples=200, deadline=None)
@given(pipelines())
def test_every_planned_dag_is_complete_topological_and_unique(doc: dict[str, Any]) -> None:
    spec = parse_spec(as_yaml(doc))
    result = plan_run(spec, Trigger("manual", "refs/heads/any", "f" * 40))
    keys = [job.key for job in result.jobs]
    assert len(keys) == len(set(keys)), "job keys are unique"

    position = {key: i for i, key in enumerate(keys)}
    stage_of = {job.key: job.stage for job in result.jobs}
    for job in result.jobs:
        for need in job.needs:
            assert need in position, f"{job.key} needs unknown job {need}"
            assert position[need] < position[job.key], f"{need} is planned after {job.key}, which needs it"
        assert {stage_of[n] for n in job.needs} == set(spec.stages[job.stage].needs)

    for name, raw in doc["stages"].items():
        stage_jobs = [job for job in result.jobs if job.stage == name]
        if raw.get("per_platform", True) is False:
            platforms: list[str | None] = [None]
        else:
            platforms = [p for p in doc["platforms"] if p in raw.get("platforms", doc["platforms"])]
        assert len(stage_jobs) == len(platforms) * raw["shards"]
        assert [(j.platform, j.shard_count) for j in stage_jobs] == [
            (p, raw["shards"]) for p in platforms for _ in range(raw["shards"])
        ]
        expected_shards = [None] if raw["shards"] == 1 else list(range(1, raw["shards"] + 1))
        assert [j.shard for j in stage_jobs] == expected_shards * len(platforms)


@settings(max_examples=200, deadline=None)
@given(pipelines(acyclic=False))
def test_a_pipeline_is_refused_exactly_when_its_needs_have_a_cycle(doc: dict[str, Any]) -> None:
    graph = {name: stage.get("needs", []) for name, stage in doc["stages"].items()}
    try:
        graphlib.TopologicalSorter(graph).prepare()
        has_cycle = False
    except graphlib.CycleError:
        has_cycle = True
    text = as_yaml(doc)
    try:
        parse_spec(text)
    except SpecError as exc:
        assert has_cycle
        lines = text.splitlines()
        for issue in exc.errors:
            assert "needs form a cycle" in issue.message
            names = issue.message.split(": ", 1)[1].split(" (")[0].split(" -> ")
            assert names[0] == names[-1], "a cycle ends where it starts"
            assert lines[issue.line - 1][issue.column - 1 :].startswith(names[1]), (
                "points at the closing need"
            )
    else:
        assert not has_cycle
