"""The planner: (validated pipeline, trigger) -> the run's job DAG. Pure; no I/O.

A stage becomes one job per platform (unless `per_platform: false`) and per shard. Push
triggers are filtered by the pipeline's branch/tag globs; manual and API triggers always run,
since a person or a script asked for that ref explicitly."""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

from orchestrator.jobspec import JobPlan, JobSpec
from orchestrator.spec import PipelineSpec, StageSpec, Triggers
from orchestrator.spec.release import build_number_option
from orchestrator.stages import stage_kind


@dataclass(frozen=True)
class Trigger:
    """What started the run. `ref` is a full ref; a bare name such as "main" is a branch."""

    kind: Literal["push", "manual", "api"]
    ref: str
    sha: str


@dataclass(frozen=True)
class RunPlan:
    """The jobs in a topological order, or why the run is skipped (and then no jobs)."""

    jobs: tuple[JobPlan, ...]
    skipped_reason: str | None = None


RefKind = Literal["branch", "tag", "other"]


def parse_ref(ref: str) -> tuple[RefKind, str]:
    """("branch", "main") for refs/heads/main or a bare "main"; ("tag", name) for refs/tags/...;
    ("other", ref) for any other full ref, such as refs/pull/1/head."""
    if ref.startswith("refs/heads/"):
        return "branch", ref.removeprefix("refs/heads/")
    if ref.startswith("refs/tags/"):
        return "tag", ref.removeprefix("refs/tags/")
    if ref.startswith("refs/"):
        return "other", ref
    return "branch", ref


def trigger_mismatch(triggers: Triggers, ref: str) -> str | None:
    """None when a push of `ref` should start a run, else the reason it should not.

    Globs follow fnmatch: `*` matches any characters including `/` (so `release/*` matches
    `release/1.2/hotfix`, and `**` means the same as `*`), `?` one character, `[...]` a set."""
    kind, name = parse_ref(ref)
    if kind == "other":
        return f"ref {ref!r} is neither a branch nor a tag, so no trigger applies"
    globs = triggers.branches if kind == "branch" else triggers.tags
    if any(fnmatchcase(name, glob) for glob in globs):
        return None
    listed = ", ".join(globs) if globs else "none"
    section = "branches" if kind == "branch" else "tags"
    return f"{kind} {name!r} matches none of the triggers ({section}: {listed})"


def ref_matches(triggers: Triggers, ref: str) -> bool:
    """Whether a push of `ref` starts a run."""
    return trigger_mismatch(triggers, ref) is None


def plan_run(spec: PipelineSpec, trigger: Trigger) -> RunPlan:
    """The run's jobs, or a skip when a push's ref matches no trigger or the ref was deleted."""
    if trigger.sha and set(trigger.sha) == {"0"}:
        return RunPlan((), f"ref {trigger.ref!r} was deleted, so there is nothing to build")
    if trigger.kind == "push":
        reason = trigger_mismatch(spec.triggers, trigger.ref)
        if reason is not None:
            return RunPlan((), reason)
    return RunPlan(plan_jobs(spec))


def device_sharded(stage: StageSpec) -> bool:
    """Whether the stage's kind leases devices and splits its tests across `shards` devices
    inside one job (by recorded durations); every other stage's shards are separate jobs."""
    return stage_kind(stage.kind).leases_devices(stage)


def plan_jobs(spec: PipelineSpec) -> tuple[JobPlan, ...]:
    """Every job of the pipeline, ordered by stage (dependencies first, else file order),
    then platform (file order), then shard."""
    by_stage: dict[str, list[JobPlan]] = {}
    for name in stage_order(spec.stages):
        stage = spec.stages[name]
        by_stage[name] = [
            _job(spec, name, stage, platform, shard, _needs(spec, stage, platform, by_stage))
            for platform in _platforms_of(spec, stage)
            for shard in range(1, (1 if device_sharded(stage) else stage.shards) + 1)
        ]
    return tuple(job for jobs in by_stage.values() for job in jobs)


def stage_order(stages: Mapping[str, StageSpec]) -> list[str]:
    """Stage names so that every stage comes after the stages it needs; otherwise file order.

    Kahn's topological sort with the ready stages kept in a heap by file position: the earliest
    ready stage always goes next, in O((stages + needs) log stages)."""
    names = list(stages)
    position = {name: i for i, name in enumerate(names)}
    unplaced_needs: dict[str, int] = {}
    needed_by: dict[str, list[str]] = {name: [] for name in names}
    for name in names:
        needs = set(stages[name].needs)
        unplaced_needs[name] = len(needs)  # an unknown need is never placed: the stage is stuck
        for need in needs:
            if need in needed_by:
                needed_by[need].append(name)
    ready = [position[name] for name in names if unplaced_needs[name] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for later in needed_by[name]:
            unplaced_needs[later] -= 1
            if unplaced_needs[later] == 0:
                heapq.heappush(ready, position[later])
    if len(order) < len(names):
        placed = set(order)
        stuck = [name for name in names if name not in placed]
        raise ValueError(f"stages {', '.join(stuck)} need unknown or cyclic stages; validate with parse_spec")
    return order


def _platforms_of(spec: PipelineSpec, stage: StageSpec) -> Sequence[str | None]:
    if not stage.per_platform:
        return [None]
    return [p for p in spec.platforms if stage.platforms is None or p in stage.platforms]


def _needs(
    spec: PipelineSpec, stage: StageSpec, platform: str | None, planned: Mapping[str, Sequence[JobPlan]]
) -> tuple[str, ...]:
    keys: dict[str, None] = {}
    for need in stage.needs:
        jobs = planned[need]
        if platform is not None and spec.stages[need].per_platform:
            # Same platform only; a stage that skipped this platform gates it as a whole.
            jobs = [j for j in jobs if j.platform == platform] or jobs
        keys.update((j.key, None) for j in jobs)
    return tuple(keys)


def _job(
    spec: PipelineSpec, name: str, stage: StageSpec, platform: str | None, shard: int, needs: tuple[str, ...]
) -> JobPlan:
    sharded = stage.shards > 1 and not device_sharded(stage)
    key = ":".join([name, *([platform] if platform else []), *([str(shard)] if sharded else [])])
    platform_spec = spec.platforms.get(platform) if platform else None  # type: ignore[call-overload]
    lane = stage.lane
    if lane is not None and platform_spec is not None:
        lane = platform_spec.lanes.get(name, lane)
    env = {
        **spec.env,
        **(platform_spec.env if platform_spec else {}),
        **stage.env,
        # Instep's own variables win, so a job can always trust them.
        "INSTEP_STAGE": name,
        **({"INSTEP_PLATFORM": platform} if platform else {}),
        "INSTEP_SHARD": str(shard),
        "INSTEP_SHARD_COUNT": str(stage.shards),
    }
    return JobPlan(
        key=key,
        stage=name,
        kind=stage.kind,
        platform=platform,
        shard=shard if sharded else None,
        shard_count=stage.shards,
        needs=needs,
        queue=stage.queue or stage_kind(stage.kind).default_queue(platform),
        timeout_s=stage.timeout,
        retries=stage.retries,
        allow_failure=stage.allow_failure,
        spec=JobSpec(
            run=stage.run,
            lane=lane,
            lane_options=stage.options,
            env=env,
            devices=stage.devices,
            suite=stage.suite,
            app=stage.app,
            test_retries=stage.test_retries,
            build_number_option=build_number_option(spec, stage.kind, platform),
        ),
    )
