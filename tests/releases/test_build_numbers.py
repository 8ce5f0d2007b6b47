"""Build numbers: allocated when a release pipeline's run is planned, monotonic per project and
platform, never reused (also across failed runs), passed to the build lane as an option."""

from __future__ import annotations

import threading

from sqlalchemy import select

from orchestrator.db.models import Job
from orchestrator.planner import Trigger, plan_run
from orchestrator.projects import create_project
from orchestrator.releases.build_numbers import allocate
from orchestrator.runs import create_run
from orchestrator.scheduler import apply_plan
from orchestrator.sealing import Sealer
from orchestrator.spec import parse_spec

PIPELINE = """version: 1
platforms: {android: {}, ios: {}}
stages:
  unit: {lane: test}
  build: {needs: [unit], lane: build, options: {version: 1.0.0}}
  gate: {needs: [build]}
  submit: {needs: [gate], lane: release}
release:
  build_number_option: {android: version_code}
"""


def plan_and_store(database, text: str) -> dict[str, Job]:  # type: ignore[no-untyped-def]
    spec = parse_spec(text)
    with database.session() as s:
        from orchestrator.projects import get_project

        project = get_project(s, "shop")
        run = create_run(s, project, trigger="push", ref="refs/heads/main", sha="b" * 40)
        apply_plan(s, run.id, plan_run(spec, Trigger("push", "refs/heads/main", "b" * 40)))
        s.commit()
        return {j.key: j for j in s.scalars(select(Job).where(Job.run_id == run.id))}


def test_build_jobs_of_a_release_pipeline_get_numbers_as_their_lane_option(database) -> None:  # type: ignore[no-untyped-def]
    with database.session() as s:
        create_project(s, sealer=Sealer("k" * 20), name="shop", repo_url="https://github.com/acme/shop.git")
        s.commit()
    first = plan_and_store(database, PIPELINE)
    assert first["build:android"].spec["build_number"] == 1
    assert first["build:android"].spec["lane_options"] == {"version": "1.0.0", "version_code": "1"}
    assert first["build:ios"].spec["lane_options"] == {"version": "1.0.0", "build_number": "1"}
    assert "build_number" not in first["unit:android"].spec["lane_options"]
    # The first run's numbers stay used whatever became of it: the next run gets new ones.
    second = plan_and_store(database, PIPELINE)
    assert second["build:android"].spec["build_number"] == 2 and second["build:ios"].spec["build_number"] == 2
    # A pipeline without a gate is not a release pipeline: its builds get no number.
    plain = plan_and_store(database, "version: 1\nplatforms: {ios: {}}\nstages:\n  build: {lane: build}\n")
    assert plain["build:ios"].spec.get("build_number") is None
    assert plain["build:ios"].spec["lane_options"] == {}


def test_parallel_allocations_never_hand_out_a_number_twice(database) -> None:  # type: ignore[no-untyped-def]
    with database.session() as s:
        project = create_project(
            s, sealer=Sealer("k" * 20), name="shop", repo_url="https://github.com/acme/shop.git"
        )
        s.commit()
        project_id = project.id
    got: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(5):
            with database.session() as s:
                number = allocate(s, project_id, "android")
                s.commit()
            with lock:
                got.append(number)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(got) == list(range(1, 41))
