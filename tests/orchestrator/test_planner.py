"""The planner: which jobs a run gets, what each waits for, where it runs, and with what env."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from orchestrator.planner import JobPlan, RunPlan, Trigger, plan_run, ref_matches, trigger_mismatch
from orchestrator.spec import load_spec_file, parse_spec

REPO = Path(__file__).resolve().parents[2]
SHA = "a" * 40
MAIN = Trigger("push", "refs/heads/main", SHA)

FULL = """\
version: 1
triggers:
  branches: ["main", "release/*"]
  tags: ["v*"]
platforms:
  android:
    env: {GRADLE_OPTS: "-Xmx2g", SHARED: android}
    lanes: {build: assemble_release}
  ios: {}
env: {SHARED: top, TOP: "1"}
stages:
  unit:
    run: node --test tests/unit
  build:
    lane: build
    options: {configuration: Release}
    needs: [unit]
    timeout: 30m
    retries: 1
    env: {SHARED: stage}
  acceptance:
    needs: [build]
    devices: [pixel-8, iphone-15]
    shards: 2
    run: pytest tests/acceptance
  screenshots: {needs: [acceptance]}
  approve: {kind: gate, needs: [acceptance, screenshots], per_platform: false}
  submit: {needs: [approve], lane: release}
  lint: {run: "make lint", queue: default, platforms: [android]}
"""


def plan(text: str, trigger: Trigger = MAIN) -> RunPlan:
    return plan_run(parse_spec(dedent(text)), trigger)


def jobs(text: str) -> dict[str, JobPlan]:
    result = plan(text)
    assert result.skipped_reason is None
    return {job.key: job for job in result.jobs}


# --- the DAG -----------------------------------------------------------------------------------------


def test_the_documented_pipeline_plans_a_job_per_stage_platform_and_shard() -> None:
    result = plan(FULL)
    assert [j.key for j in result.jobs] == [
        "unit:android",
        "unit:ios",
        "build:android",
        "build:ios",
        "acceptance:android:1",
        "acceptance:android:2",
        "acceptance:ios:1",
        "acceptance:ios:2",
        "screenshots:android",
        "screenshots:ios",
        "approve",
        "submit:android",
        "submit:ios",
        "lint:android",
    ]
    by_key = {j.key: j for j in result.jobs}
    assert by_key["build:ios"].needs == ("unit:ios",)
    assert by_key["acceptance:ios:2"].needs == ("build:ios",)
    assert by_key["screenshots:android"].needs == ("acceptance:android:1", "acceptance:android:2")
    assert by_key["approve"].needs == (
        "acceptance:android:1",
        "acceptance:android:2",
        "acceptance:ios:1",
        "acceptance:ios:2",
        "screenshots:android",
        "screenshots:ios",
    )
    assert by_key["submit:android"].needs == ("approve",)
    assert by_key["lint:android"].needs == ()


def test_the_sample_app_plans_unit_then_build_on_both_platforms() -> None:
    spec = load_spec_file(REPO / "examples/sample-app/instep.yml")
    result = plan_run(spec, MAIN)
    assert [(j.key, j.needs, j.spec.lane, j.timeout_s, j.retries) for j in result.jobs][:6] == [
        ("unit:android", (), "test", 600, 0),
        ("unit:ios", (), "test", 600, 0),
        ("build:android", ("unit:android",), "build", 1200, 1),
        ("build:ios", ("unit:ios",), "build", 1200, 1),
        ("acceptance", ("build:android", "build:ios"), None, 900, 0),
        ("screenshots", ("build:android", "build:ios"), None, 900, 0),
    ]
    # Then the release stages: a gate per platform after the suites (and what follows it).
    gates = {j.key: j.needs for j in result.jobs if j.kind == "gate"}
    assert gates == {p: ("acceptance", "screenshots") for p in ("gate:android", "gate:ios")}
    assert result.jobs[2].spec.lane_options == {"version": "1.0.0"}


def test_a_stage_missing_a_platform_is_needed_as_a_whole_by_that_platform() -> None:
    by_key = jobs(
        """\
        version: 1
        platforms: {android: {}, ios: {}}
        stages:
          prepare: {run: x, platforms: [android]}
          build: {run: y, needs: [prepare]}
        """
    )
    assert by_key["build:android"].needs == ("prepare:android",)
    assert by_key["build:ios"].needs == ("prepare:android",)


def test_a_stage_running_once_waits_for_every_platform_and_is_waited_for_by_each() -> None:
    by_key = jobs(
        """\
        version: 1
        platforms: {ios: {}, android: {}}
        stages:
          build: {run: x}
          report: {run: y, needs: [build], per_platform: false, shards: 2}
          publish: {run: z, needs: report}
        """
    )
    assert by_key["report:1"].needs == ("build:ios", "build:android")
    assert (by_key["report:2"].platform, by_key["report:2"].shard) == (None, 2)
    assert by_key["publish:ios"].needs == ("report:1", "report:2")
    assert by_key["publish:android"].needs == ("report:1", "report:2")


def test_stages_listed_before_what_they_need_still_come_after_it() -> None:
    result = plan(
        """\
        version: 1
        platforms: {ios: {}}
        stages:
          deploy: {lane: release, needs: [build]}
          lint: {run: x}
          build: {run: y}
        """
    )
    assert [j.key for j in result.jobs] == ["lint:ios", "build:ios", "deploy:ios"]


def test_needs_listed_twice_are_waited_for_once() -> None:
    by_key = jobs("version: 1\nplatforms: {ios: {}}\nstages:\n  a: {run: x}\n  b: {run: y, needs: [a, a]}\n")
    assert by_key["b:ios"].needs == ("a:ios",)


def test_platforms_follow_the_order_they_are_declared_in() -> None:
    result = plan("version: 1\nplatforms: {ios: {}, android: {}}\nstages:\n  unit: {run: x}\n")
    assert [j.platform for j in result.jobs] == ["ios", "android"]


def test_shard_numbers_are_one_based_and_absent_when_unsharded() -> None:
    by_key = jobs(
        "version: 1\nplatforms: {android: {}}\nstages:\n  e2e: {run: x, shards: 3}\n  unit: {run: x}\n"
    )
    assert [(k, j.shard, j.shard_count) for k, j in by_key.items()] == [
        ("e2e:android:1", 1, 3),
        ("e2e:android:2", 2, 3),
        ("e2e:android:3", 3, 3),
        ("unit:android", None, 1),
    ]


# --- queues -------------------------------------------------------------------------------------------


def test_queues_are_routed_by_kind_and_platform() -> None:
    by_key = {j.key: j.queue for j in plan(FULL).jobs}
    assert by_key == {
        "unit:android": "android",
        "unit:ios": "ios",
        "build:android": "android",
        "build:ios": "ios",
        "acceptance:android:1": "devices",
        "acceptance:android:2": "devices",
        "acceptance:ios:1": "devices",
        "acceptance:ios:2": "devices",
        "screenshots:android": "devices",
        "screenshots:ios": "devices",
        "approve": "default",
        "submit:android": "android",
        "submit:ios": "ios",
        "lint:android": "default",
    }


def test_an_explicit_queue_wins_and_a_platformless_build_goes_to_default() -> None:
    by_key = jobs(
        """\
        version: 1
        platforms: {ios: {}}
        stages:
          build: {run: x, per_platform: false}
          acceptance: {queue: ios}
        """
    )
    assert (by_key["build"].queue, by_key["acceptance:ios"].queue) == ("default", "ios")


# --- what each job runs, and with which env -----------------------------------------------------------------


def test_env_merges_top_then_platform_then_stage_plus_instep_variables() -> None:
    by_key = {j.key: j for j in plan(FULL).jobs}
    assert dict(by_key["build:android"].spec.env) == {
        "SHARED": "stage",
        "TOP": "1",
        "GRADLE_OPTS": "-Xmx2g",
        "INSTEP_STAGE": "build",
        "INSTEP_PLATFORM": "android",
        "INSTEP_SHARD": "1",
        "INSTEP_SHARD_COUNT": "1",
    }
    assert dict(by_key["unit:android"].spec.env)["SHARED"] == "android"
    assert dict(by_key["unit:ios"].spec.env)["SHARED"] == "top"
    once_env = dict(by_key["approve"].spec.env)
    assert "INSTEP_PLATFORM" not in once_env and once_env["INSTEP_STAGE"] == "approve"
    assert dict(by_key["acceptance:ios:2"].spec.env)["INSTEP_SHARD"] == "2"
    assert dict(by_key["acceptance:ios:2"].spec.env)["INSTEP_SHARD_COUNT"] == "2"


def test_instep_variables_cannot_be_overridden_by_the_pipeline() -> None:
    by_key = jobs("version: 1\nplatforms: {ios: {}}\nenv: {INSTEP_STAGE: mine}\nstages:\n  unit: {run: x}\n")
    assert by_key["unit:ios"].spec.env["INSTEP_STAGE"] == "unit"


def test_a_platform_lane_override_applies_only_on_that_platform() -> None:
    by_key = {j.key: j for j in plan(FULL).jobs}
    assert (by_key["build:android"].spec.lane, by_key["build:ios"].spec.lane) == ("assemble_release", "build")
    assert dict(by_key["build:ios"].spec.lane_options) == {"configuration": "Release"}
    assert by_key["build:ios"].spec.run is None
    assert by_key["unit:ios"].spec.run == "node --test tests/unit"


def test_job_settings_come_from_the_stage() -> None:
    by_key = {j.key: j for j in plan(FULL).jobs}
    build = by_key["build:ios"]
    assert (build.kind, build.stage, build.timeout_s, build.retries, build.allow_failure) == (
        "build",
        "build",
        1800,
        1,
        False,
    )
    assert by_key["acceptance:android:1"].spec.devices == ("pixel-8", "iphone-15")
    assert by_key["lint:android"].kind == "run"


def test_job_env_cannot_be_changed_after_planning() -> None:
    job = plan(FULL).jobs[0]
    with pytest.raises(TypeError):
        job.spec.env["X"] = "y"  # type: ignore[index]


# --- triggers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "runs"),
    [
        ("refs/heads/main", True),
        ("main", True),
        ("refs/heads/release/1.2", True),
        ("refs/heads/release/1.2/hotfix", True),  # `*` also matches "/"
        ("refs/heads/releases/1.2", False),
        ("refs/heads/Main", False),  # case matters
        ("refs/tags/v1.2.0", True),
        ("refs/tags/1.2.0", False),
        ("refs/heads/v1.2.0", False),  # a branch named like a tag is still a branch
        ("refs/pull/7/head", False),
    ],
)
def test_push_refs_are_matched_against_the_trigger_globs(ref: str, runs: bool) -> None:
    spec = parse_spec(FULL)
    assert ref_matches(spec.triggers, ref) is runs
    assert (plan_run(spec, Trigger("push", ref, SHA)).skipped_reason is None) is runs


def test_an_unmatched_branch_is_skipped_with_the_reason() -> None:
    result = plan(FULL, Trigger("push", "refs/heads/docs", SHA))
    assert result == RunPlan((), "branch 'docs' matches none of the triggers (branches: main, release/*)")


def test_an_unmatched_tag_is_skipped_with_the_reason() -> None:
    result = plan(FULL, Trigger("push", "refs/tags/nightly", SHA))
    assert result.skipped_reason == "tag 'nightly' matches none of the triggers (tags: v*)"


def test_without_triggers_any_branch_runs_but_no_tag() -> None:
    text = "version: 1\nplatforms: {ios: {}}\nstages:\n  unit: {run: x}\n"
    assert plan(text, Trigger("push", "refs/heads/feature/x", SHA)).skipped_reason is None
    assert plan(text, Trigger("push", "refs/tags/v1", SHA)).skipped_reason == (
        "tag 'v1' matches none of the triggers (tags: none)"
    )


def test_a_ref_that_is_neither_branch_nor_tag_is_skipped() -> None:
    spec = parse_spec(FULL)
    assert trigger_mismatch(spec.triggers, "refs/merge-requests/3/head") == (
        "ref 'refs/merge-requests/3/head' is neither a branch nor a tag, so no trigger applies"
    )


@pytest.mark.parametrize("kind", ["manual", "api"])
def test_manual_and_api_triggers_run_regardless_of_the_globs(kind: str) -> None:
    result = plan(FULL, Trigger(kind, "refs/heads/docs", SHA))  # type: ignore[arg-type]
    assert result.skipped_reason is None
    assert len(result.jobs) == 14


@pytest.mark.parametrize("kind", ["push", "manual"])
def test_a_deleted_ref_plans_nothing(kind: str) -> None:
    result = plan(FULL, Trigger(kind, "refs/heads/main", "0" * 40))  # type: ignore[arg-type]
    assert result == RunPlan((), "ref 'refs/heads/main' was deleted, so there is nothing to build")


def test_device_stages_shard_inside_one_job_and_carry_their_suite() -> None:
    by_key = jobs(
        """\
        version: 1
        platforms: {android: {}, ios: {}}
        stages:
          acceptance: {devices: [pixel-8, iphone-15], shards: 2, per_platform: false, app: www, test_retries: 1}
          screenshots: {devices: [pixel-8], suite: tests/capture}
          lint: {run: make lint, shards: 2, per_platform: false}
        """
    )
    acceptance = by_key["acceptance"]
    assert (acceptance.shard, acceptance.shard_count, acceptance.queue) == (None, 2, "devices")
    assert (acceptance.spec.suite, acceptance.spec.app, acceptance.spec.test_retries) == (None, "www", 1)
    assert by_key["screenshots:ios"].spec.suite == "tests/capture"
    assert {"lint:1", "lint:2"} <= set(by_key), "other stages' shards stay separate jobs"
