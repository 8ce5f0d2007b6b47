"""The run state machine, pure: which transitions are legal and what the scheduler must do next.

The scheduler loads a run into a `RunView`, asks `next_actions`, and applies what comes back;
nothing here touches the database, Celery or the clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

RunStatus = Literal["queued", "running", "waiting", "succeeded", "failed", "canceled", "skipped"]
JobStatus = Literal["pending", "queued", "running", "waiting", "succeeded", "failed", "canceled", "skipped"]

FINAL_RUN: frozenset[str] = frozenset({"succeeded", "failed", "canceled", "skipped"})
FINAL_JOB: frozenset[str] = frozenset({"succeeded", "failed", "canceled", "skipped"})

_JOB_MOVES: dict[str, frozenset[str]] = {
    # Planned, waiting for its needs.
    "pending": frozenset({"queued", "skipped", "canceled"}),
    # Sent to a Celery queue; a worker may pick it up, or it is canceled first.
    "queued": frozenset({"running", "canceled", "failed"}),
    # queued again only when its worker vanished and attempts remain; waiting when its work is
    # done but people must decide (screenshot review), with no worker held.
    "running": frozenset({"succeeded", "failed", "canceled", "queued", "waiting"}),
    "waiting": frozenset({"succeeded", "failed", "canceled"}),
}
_RUN_MOVES: dict[str, frozenset[str]] = {
    # Planning may fail (invalid instep.yml) or find that the ref matches no trigger.
    "queued": frozenset({"running", "failed", "canceled", "skipped"}),
    "running": frozenset({"waiting", "succeeded", "failed", "canceled"}),
    # Waiting for people (reviews, approvals); they move it on or end it.
    "waiting": frozenset({"running", "succeeded", "failed", "canceled"}),
}


class InvalidTransition(Exception):
    """A state change the state machine does not allow (e.g. anything out of a final state)."""


def check_job_move(subject: str, current: str, new: str) -> None:
    if new not in _JOB_MOVES.get(current, frozenset()):
        raise InvalidTransition(f"job {subject}: cannot go from {current} to {new}")


def check_run_move(subject: str, current: str, new: str) -> None:
    if new not in _RUN_MOVES.get(current, frozenset()):
        raise InvalidTransition(f"run {subject}: cannot go from {current} to {new}")


@dataclass(frozen=True)
class JobView:
    key: str
    status: str
    needs: tuple[str, ...] = ()
    allow_failure: bool = False


@dataclass(frozen=True)
class RunView:
    status: str
    jobs: tuple[JobView, ...]
    cancel_requested: bool = False


@dataclass(frozen=True)
class EnqueueJob:
    key: str


@dataclass(frozen=True)
class SkipJob:
    key: str
    reason: str


@dataclass(frozen=True)
class CancelJob:
    """Cancel a job; for a running job the worker is told and kills its process group."""

    key: str
    reason: str
    running: bool


@dataclass(frozen=True)
class StartRun:
    pass


@dataclass(frozen=True)
class WaitRun:
    """Every remaining job waits for people: the run is `waiting`."""


@dataclass(frozen=True)
class ResumeRun:
    """A waiting run has work for workers again."""


@dataclass(frozen=True)
class FinishRun:
    status: str
    reason: str | None


Action = EnqueueJob | SkipJob | CancelJob | StartRun | WaitRun | ResumeRun | FinishRun


def _blocking(status: str, allow_failure: bool) -> str | None:
    """Why a finished need blocks its dependants, or None when it lets them go on."""
    if status == "succeeded" or (status == "failed" and allow_failure):
        return None
    return {"failed": "failed", "canceled": "was canceled", "skipped": "was skipped"}.get(status)


def next_actions(run: RunView) -> list[Action]:
    """What the scheduler must do now for this run, in order. Empty once the run is final."""
    if run.status in FINAL_RUN:
        return []
    jobs = {j.key: j for j in run.jobs}
    actions: list[Action] = []

    if run.cancel_requested:
        live = [j for j in run.jobs if j.status not in FINAL_JOB]
        for job in live:
            if job.status != "running":
                actions.append(CancelJob(job.key, "run canceled", running=False))
            else:
                actions.append(CancelJob(job.key, "run canceled", running=True))
        if all(j.status != "running" for j in live):
            actions.append(FinishRun("canceled", "canceled on request"))
        return actions

    if run.status == "queued":
        actions.append(StartRun())

    # A skip can cascade: resolve pending jobs in dependency order until nothing changes.
    status = {j.key: j.status for j in run.jobs}
    changed = True
    while changed:
        changed = False
        for job in run.jobs:
            if status[job.key] != "pending":
                continue
            needs = [jobs[n] for n in job.needs if n in jobs]
            blocked = None
            for need in needs:
                if status[need.key] in FINAL_JOB:
                    why = _blocking(status[need.key], need.allow_failure)
                    if why is not None:
                        blocked = (need.key, why)
                        break
            if blocked is not None:
                status[job.key] = "skipped"
                actions.append(SkipJob(job.key, f"needs {blocked[0]}, which {blocked[1]}"))
                changed = True
            elif all(status[n.key] in FINAL_JOB for n in needs):
                status[job.key] = "queued"
                actions.append(EnqueueJob(job.key))
                changed = True

    if all(s in FINAL_JOB for s in status.values()):
        actions.append(_verdict(run.jobs, status))
    elif run.status == "running" and _only_people(status):
        actions.append(WaitRun())
    elif run.status == "waiting" and not _only_people(status):
        actions.append(ResumeRun())
    return actions


def _only_people(status: dict[str, str]) -> bool:
    """Nothing is queued or running: what is left waits for reviews (or for those jobs)."""
    live = [s for s in status.values() if s not in FINAL_JOB]
    return bool(live) and "waiting" in live and all(s in ("waiting", "pending") for s in live)


def _verdict(jobs: Sequence[JobView], status: dict[str, str]) -> FinishRun:
    failed = [j.key for j in jobs if status[j.key] == "failed" and not j.allow_failure]
    canceled = [j.key for j in jobs if status[j.key] == "canceled"]
    if failed:
        return FinishRun("failed", "failed: " + ", ".join(failed))
    if canceled:
        return FinishRun("canceled", "canceled: " + ", ".join(canceled))
    if jobs and all(status[j.key] == "skipped" for j in jobs):
        return FinishRun("skipped", "every job was skipped")
    return FinishRun("succeeded", None)
