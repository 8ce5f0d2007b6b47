"""The stage-kind registry: every kind is registered once, and the schema, the planner and the
scheduler take what they know about kinds from it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

import orchestrator.stages
from orchestrator.planner import Trigger, plan_run
from orchestrator.spec import parse_spec
from orchestrator.spec.model import BUILTIN_KINDS, StageKind, StageSpec, stage_with_defaults
from orchestrator.stages import KINDS, UnknownStageKind, stage_kind, wait_reason

REPO = Path(__file__).resolve().parents[2]
MAIN = Trigger("push", "refs/heads/main", "a" * 40)
INTERFACE = ("check", "default_queue", "leases_devices", "run")


def _kind_classes() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(orchestrator.stages.__path__):
        module = importlib.import_module(f"orchestrator.stages.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                cls.__module__ == module.__name__
                and not getattr(cls, "_is_protocol", False)
                and all(callable(getattr(cls, m, None)) for m in INTERFACE)
            ):
                found.append(cls)
    return found


def test_every_stage_kind_class_in_the_package_is_registered() -> None:
    registered = {type(kind) for kind in KINDS.values()}
    classes = _kind_classes()
    assert len(classes) >= 6
    assert set(classes) <= registered


def test_the_schema_accepts_exactly_the_registered_kinds() -> None:
    assert get_args(StageKind) == tuple(KINDS)
    assert set(BUILTIN_KINDS) == set(KINDS) - {"run"}
    for name in KINDS:
        assert StageSpec(kind=name).kind == name  # type: ignore[arg-type]


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(UnknownStageKind) as caught:
        stage_kind("deploy")
    message = str(caught.value)
    assert (
        "'deploy' is not known" in message
        and "build, unit" in message
        and "run the pipeline again" in message
    )


PIPELINE = """\
version: 1
platforms: {android: {}, ios: {}}
stages:
  unit: {run: make test}
  build: {lane: build}
  acceptance: {devices: [pixel-8], shards: 2}
  screenshots: {devices: [pixel-8]}
  gate: {needs: [build]}
  submit: {needs: [gate], lane: release}
  lint: {run: make lint}
  e2e: {kind: acceptance, run: make e2e, shards: 2}
"""


def test_the_planner_takes_queues_and_device_sharding_from_the_kinds() -> None:
    spec = parse_spec(PIPELINE)
    jobs = plan_run(spec, MAIN).jobs
    for job in jobs:
        stage = spec.stages[job.stage]
        kind = KINDS[stage.kind]
        assert job.queue == kind.default_queue(job.platform), job.key
        sharded_inside = kind.leases_devices(stage)
        jobs_of_stage = [j for j in jobs if j.stage == job.stage and j.platform == job.platform]
        assert len(jobs_of_stage) == (1 if sharded_inside else stage.shards), job.key
    queues = {j.key: j.queue for j in jobs}
    assert queues["build:ios"] == "ios" and queues["acceptance:android"] == "devices"
    assert queues["submit:android"] == "android" and queues["lint:ios"] == "default"
    # With `run:` an acceptance stage runs that command: one job per shard, no leases inside.
    assert {"e2e:ios:1", "e2e:ios:2"} <= set(queues)


def test_a_kind_gives_its_stages_their_defaults() -> None:
    assert stage_with_defaults("gate", None) == {"kind": "gate", "per_platform": False}
    assert stage_with_defaults("gate", {"per_platform": True})["per_platform"] is True
    assert stage_with_defaults("other", {"kind": "gate"})["per_platform"] is False
    assert "per_platform" not in stage_with_defaults("build", {})


def test_the_wait_reason_comes_from_the_waiting_jobs_kinds() -> None:
    assert wait_reason(["screenshots"]) == KINDS["screenshots"].wait_reason == "waiting for screenshot review"
    assert wait_reason(["run", "unknown-kind"]) == "waiting for people"


def test_a_submit_stage_with_its_own_lane_is_valid_and_runs_on_its_platform() -> None:
    spec = parse_spec(
        "version: 1\nplatforms: {ios: {}}\nstages:\n  gate: {}\n  submit: {needs: [gate], lane: release}\n"
    )
    [job] = [j for j in plan_run(spec, MAIN).jobs if j.kind == "submit"]
    assert (job.kind, job.queue, job.spec.lane) == ("submit", "ios", "release")


@pytest.mark.parametrize("first", ["orchestrator.stages", "orchestrator.spec", "orchestrator.planner"])
def test_declarations_import_no_database_celery_device_farm_or_fastlane(first: str) -> None:
    code = (
        f"import {first}, orchestrator.stages, orchestrator.spec, orchestrator.planner, sys; "
        "heavy = [m for m in ('sqlalchemy', 'celery', 'device_farm', 'lanes', 'screenshots') if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("kind", [name for name, kind in KINDS.items() if kind.wait_reason])
def test_a_run_waiting_on_a_kind_says_that_kind_s_wait_reason(database, kind: str) -> None:  # type: ignore[no-untyped-def]
    from orchestrator.db.models import Job, Run
    from orchestrator.projects import create_project
    from orchestrator.runs import create_run
    from orchestrator.scheduler import advance, finish_attempt, start_attempt
    from orchestrator.sealing import Sealer

    with database.session() as s:
        project = create_project(
            s, sealer=Sealer("test-secret-key-0123456789"), name="shop", repo_url="file:///srv/shop.git"
        )
        run = create_run(s, project, trigger="manual", ref="refs/heads/main", sha="a" * 40)
        job = Job(run_id=run.id, key=kind, stage=kind, kind=kind, queue="default", timeout_s=60, spec={})
        s.add(job)
        s.flush()
        advance(s, run.id)
        start_attempt(s, job.id, 1, "w1")
        finish_attempt(s, job.id, 1, "waiting", "people must decide")
        s.commit()
        stored = s.get(Run, run.id)
        assert stored is not None
        assert (stored.status, stored.reason) == ("waiting", KINDS[kind].wait_reason)
