import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.transitions import (
    FINAL_JOB,
    CancelJob,
    EnqueueJob,
    FinishRun,
    InvalidTransition,
    JobView,
    RunView,
    SkipJob,
    StartRun,
    check_job_move,
    check_run_move,
    next_actions,
)


def run(status: str, *jobs: JobView, cancel: bool = False) -> RunView:
    return RunView(status=status, jobs=tuple(jobs), cancel_requested=cancel)


def test_a_new_run_starts_and_enqueues_jobs_without_needs() -> None:
    actions = next_actions(
        run(
            "queued",
            JobView("unit:android", "pending"),
            JobView("build:android", "pending", ("unit:android",)),
        )
    )
    assert actions == [StartRun(), EnqueueJob("unit:android")]


def test_a_job_is_enqueued_once_all_its_needs_succeeded() -> None:
    actions = next_actions(
        run(
            "running",
            JobView("unit:android", "succeeded"),
            JobView("unit:ios", "running"),
            JobView("gate", "pending", ("unit:android", "unit:ios")),
        )
    )
    assert actions == []


def test_a_failed_job_skips_everything_downstream_and_fails_the_run() -> None:
    actions = next_actions(
        run(
            "running",
            JobView("unit", "failed"),
            JobView("build", "pending", ("unit",)),
            JobView("submit", "pending", ("build",)),
        )
    )
    assert actions == [
        SkipJob("build", "needs unit, which failed"),
        SkipJob("submit", "needs build, which was skipped"),
        FinishRun("failed", "failed: unit"),
    ]


def test_allow_failure_lets_dependants_run_and_the_run_succeed() -> None:
    actions = next_actions(
        run("running", JobView("lint", "failed", allow_failure=True), JobView("build", "pending", ("lint",)))
    )
    assert actions == [EnqueueJob("build")]
    done = next_actions(
        run(
            "running", JobView("lint", "failed", allow_failure=True), JobView("build", "succeeded", ("lint",))
        )
    )
    assert done == [FinishRun("succeeded", None)]


def test_cancel_reaches_running_jobs_and_ends_the_run_only_when_they_stopped() -> None:
    actions = next_actions(
        run(
            "running",
            JobView("a", "running"),
            JobView("b", "pending", ("a",)),
            JobView("c", "succeeded"),
            cancel=True,
        )
    )
    assert CancelJob("a", "run canceled", running=True) in actions
    assert CancelJob("b", "run canceled", running=False) in actions
    assert not any(isinstance(a, FinishRun) for a in actions)
    after = next_actions(run("running", JobView("a", "canceled"), JobView("b", "canceled"), cancel=True))
    assert after == [FinishRun("canceled", "canceled on request")]


def test_nothing_leaves_a_final_state() -> None:
    for final in FINAL_JOB:
        for target in ("pending", "queued", "running", "succeeded", "failed", "canceled", "skipped"):
            with pytest.raises(InvalidTransition):
                check_job_move("x", final, target)
    with pytest.raises(InvalidTransition, match="run 7: cannot go from succeeded to running"):
        check_run_move("7", "succeeded", "running")
    assert next_actions(run("failed", JobView("a", "pending"))) == []


@st.composite
def dags(draw: st.DrawFn) -> list[JobView]:
    n = draw(st.integers(1, 8))
    jobs = []
    for i in range(n):
        needs = tuple(f"j{k}" for k in draw(st.sets(st.integers(0, i - 1))) if i) if i else ()
        jobs.append(JobView(f"j{i}", "pending", needs, draw(st.booleans())))
    return jobs


@given(dags(), st.lists(st.sampled_from(["succeeded", "failed", "canceled"]), min_size=64, max_size=64))
@settings(max_examples=200, deadline=None)
def test_every_job_ends_and_the_run_finishes_exactly_once(jobs: list[JobView], outcomes: list[str]) -> None:
    """Simulate a scheduler + workers on random DAGs: the run always finishes, no job is left
    pending, and jobs only start after all their needs are final."""
    state = {j.key: j.status for j in jobs}
    run_status = "queued"
    finished = 0
    for step in range(100):
        view = RunView(
            run_status, tuple(JobView(j.key, state[j.key], j.needs, j.allow_failure) for j in jobs)
        )
        actions = next_actions(view)
        for action in actions:
            if isinstance(action, StartRun):
                run_status = "running"
            elif isinstance(action, EnqueueJob):
                assert all(state[n] in FINAL_JOB for n in next(j for j in jobs if j.key == action.key).needs)
                check_job_move(action.key, state[action.key], "queued")
                state[action.key] = "queued"
            elif isinstance(action, SkipJob):
                check_job_move(action.key, state[action.key], "skipped")
                state[action.key] = "skipped"
            elif isinstance(action, FinishRun):
                check_run_move("r", run_status, action.status)
                run_status = action.status
                finished += 1
        # Workers finish every queued job with a random outcome.
        for i, job in enumerate(jobs):
            if state[job.key] == "queued":
                state[job.key] = outcomes[(i + step) % len(outcomes)]
        if run_status in ("succeeded", "failed", "canceled", "skipped"):
            break
    assert finished == 1
    assert all(s in FINAL_JOB for s in state.values())
    failed = any(state[j.key] == "failed" and not j.allow_failure for j in jobs)
    assert (run_status == "failed") == failed
