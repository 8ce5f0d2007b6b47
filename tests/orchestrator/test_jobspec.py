"""The planner-to-executor contract: a planned job stored as a `Job` row reads back typed and
equal to the plan for every stage kind; specs written by older versions still load; a spec this
version cannot read is refused with the job's name and what to do; reruns and the API use the
same declaration."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from orchestrator.db.models import Job, Project
from orchestrator.jobspec import JobPlan, JobSpec, JobSpecError
from orchestrator.planner import RunPlan, Trigger, plan_run
from orchestrator.projects import create_project
from orchestrator.runs import RunError, create_run, rerun_failed
from orchestrator.scheduler import apply_plan
from orchestrator.sealing import Sealer
from orchestrator.spec import parse_spec
from orchestrator.stages import KINDS
from tests.orchestrator.conftest import Api

PIPELINE = """\
version: 1
platforms: {android: {lanes: {build: assemble}}, ios: {}}
env: {TOP: "1"}
stages:
  unit: {lane: test, options: {coverage: "true"}}
  build: {lane: build, needs: [unit], timeout: 20m, retries: 1}
  acceptance: {needs: [build], devices: [pixel-8, iphone-15], shards: 2, app: www, test_retries: 1}
  screenshots: {needs: [build], devices: [pixel-8], per_platform: false, suite: tests/shots}
  lint: {run: make lint, queue: default, allow_failure: true}
"""


def _project(session) -> Project:  # type: ignore[no-untyped-def]
    return create_project(
        session,
        sealer=Sealer("test-secret-key-0123456789"),
        name="shop",
        repo_url="file:///srv/git/acme/shop.git",
        match_name="acme/shop",
    )


def _store(database, plan: RunPlan) -> tuple[int, list[JobPlan]]:  # type: ignore[no-untyped-def]
    with database.session() as s:
        run = create_run(s, _project(s), trigger="manual", ref="refs/heads/main", sha="a" * 40)
        apply_plan(s, run.id, plan)
        s.commit()
        rows = s.scalars(select(Job).where(Job.run_id == run.id).order_by(Job.id)).all()
        return run.id, [JobPlan.from_row(row) for row in rows]


def _every_kind() -> tuple[JobPlan, ...]:
    spec = JobSpec(
        run="make it",
        lane="build",
        lane_options={"configuration": "Release"},
        env={"TOP": "1", "INSTEP_STAGE": "x"},
        devices=("pixel-8", "iphone-15"),
        suite="tests/acceptance",
        app="www",
        test_retries=2,
    )
    return tuple(
        JobPlan(
            key=f"{name}:ios:{i + 1}",
            stage=name,
            kind=name,
            platform="ios",
            shard=i + 1,
            shard_count=len(KINDS),
            needs=(),
            queue=kind.default_queue("ios"),
            timeout_s=600 + i,
            retries=i % 3,
            allow_failure=bool(i % 2),
            spec=spec,
        )
        for i, (name, kind) in enumerate(KINDS.items())
    )


def test_every_kind_s_job_reads_back_typed_and_equal_to_its_plan(database) -> None:  # type: ignore[no-untyped-def]
    planned = _every_kind()
    _, stored = _store(database, RunPlan(planned))
    assert {job.kind for job in stored} == set(KINDS)
    assert stored == list(planned)


def test_a_planned_pipeline_reads_back_equal_to_the_plan(database) -> None:  # type: ignore[no-untyped-def]
    plan = plan_run(parse_spec(PIPELINE), Trigger("push", "refs/heads/main", "a" * 40))
    _, stored = _store(database, plan)
    assert stored == list(plan.jobs)
    by_key = {job.key: job for job in stored}
    assert by_key["build:android"].spec.lane == "assemble"
    assert dict(by_key["unit:ios"].spec.lane_options) == {"coverage": "true"}
    assert by_key["acceptance:ios"].spec.devices == ("pixel-8", "iphone-15")
    assert by_key["screenshots"].spec.suite == "tests/shots"


def test_a_read_back_spec_cannot_be_changed() -> None:
    job = _every_kind()[0]
    with pytest.raises(TypeError):
        job.spec.env["X"] = "y"  # type: ignore[index]


def _row(spec: object, key: str = "build:ios", kind: str = "build") -> SimpleNamespace:
    return SimpleNamespace(
        key=key,
        stage="build",
        kind=kind,
        platform="ios",
        shard=None,
        shard_count=1,
        needs=["unit:ios"],
        queue="ios",
        timeout_s=600,
        retries=0,
        allow_failure=False,
        spec=spec,
    )


def test_a_spec_from_an_older_or_newer_version_loads_with_defaults() -> None:
    old = JobPlan.from_row(_row({"run": None, "lane": "build", "lane_options": {}, "env": {"A": "1"}}))
    assert old.spec == JobSpec(lane="build", env={"A": "1"})
    assert (old.spec.devices, old.spec.suite, old.spec.test_retries) == ((), None, 0)
    newer = JobPlan.from_row(_row({"lane": "build", "signing_profile": "x", "something": [1]}))
    assert newer.spec == JobSpec(lane="build")
    assert JobPlan.from_row(_row({})).spec == JobSpec()


@pytest.mark.parametrize(
    ("spec", "detail"),
    [
        ({"env": ["A=1"]}, "spec.env"),
        ({"test_retries": "many"}, "spec.test_retries"),
        ("lane: build", "spec"),
        (None, "spec"),
    ],
)
def test_a_malformed_spec_is_refused_naming_the_job_the_field_and_what_to_do(
    spec: object, detail: str
) -> None:
    with pytest.raises(JobSpecError) as caught:
        JobPlan.from_row(_row(spec))
    message = str(caught.value)
    assert message.startswith("job 'build:ios' was stored in a form this version of Instep cannot read (")
    assert f"({detail}" in message or f"; {detail}" in message
    assert message.endswith("run the pipeline again to plan it afresh")


def test_a_rerun_copies_every_job_s_plan(database) -> None:  # type: ignore[no-untyped-def]
    plan = plan_run(parse_spec(PIPELINE), Trigger("push", "refs/heads/main", "a" * 40))
    run_id, stored = _store(database, plan)
    with database.session() as s:
        from orchestrator.db.models import Run

        run = s.get(Run, run_id)
        assert run is not None
        run.status = "failed"
        new = rerun_failed(s, run)
        s.commit()
        copied = [
            JobPlan.from_row(j) for j in s.scalars(select(Job).where(Job.run_id == new.id).order_by(Job.id))
        ]
    assert copied == stored


def test_a_rerun_of_a_job_this_version_cannot_read_says_so(database) -> None:  # type: ignore[no-untyped-def]
    plan = plan_run(parse_spec(PIPELINE), Trigger("push", "refs/heads/main", "a" * 40))
    run_id, _ = _store(database, plan)
    with database.session() as s:
        from orchestrator.db.models import Run

        run = s.get(Run, run_id)
        assert run is not None
        run.status = "failed"
        run.jobs[0].spec = {"env": "oops"}
        with pytest.raises(RunError) as caught:
            rerun_failed(s, run)
    assert str(caught.value).startswith(f"run {run_id} cannot be rerun: job 'unit:android' was stored")


def test_the_api_shows_each_job_as_planned(api: Api) -> None:
    plan = plan_run(parse_spec(PIPELINE), Trigger("push", "refs/heads/main", "a" * 40))
    run_id, stored = _store(api.ctx.db, plan)

    response = api.client.get(f"/api/runs/{run_id}", headers=api.as_("developer"))

    assert response.status_code == 200, response.text
    jobs = {job["key"]: job for job in response.json()["jobs"]}
    build = jobs["build:android"]
    assert {k: build[k] for k in ("stage", "kind", "platform", "queue", "needs", "timeout_s", "retries")} == {
        "stage": "build",
        "kind": "build",
        "platform": "android",
        "queue": "android",
        "needs": ["unit:android"],
        "timeout_s": 1200,
        "retries": 1,
    }
    assert build["spec"]["lane"] == "assemble" and build["spec"]["env"]["TOP"] == "1"
    assert build["status"] == "pending" and build["attempts"] == 0
    assert jobs["lint:ios"]["allow_failure"] is True
    # Every planned field is shown, so a field added to the plan reaches the API by itself.
    assert set(JobPlan.model_fields) <= set(build)
