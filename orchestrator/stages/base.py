"""The interface every stage kind implements (`StageKind`), what a kind's runner receives
(`Attempt`) and returns (`Outcome`), and the problems its spec checks report (`Problem`).

Pure and cheap to import: the runtime types a runner touches (Context, the job log, the
redactor) are named for type checking only, so spec validation and the planner import no
database, Celery, device farm or fastlane code."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from orchestrator.jobspec import JobPlan

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from orchestrator.context import Context
    from orchestrator.db.models import Job, Run
    from orchestrator.joblog import JobLog
    from orchestrator.spec.model import StageSpec
    from toolrun.redaction import Redactor
    from toolrun.sandbox import Sandbox

# Stage keys that only some kinds accept (each kind lists the ones it takes in `accepts`).
KIND_SPECIFIC_KEYS = ("suite", "app", "test_retries")


@dataclass(frozen=True)
class Problem:
    """A problem at `path` of `instep.yml`; `at` says whether the key or the value there is to
    blame, so the loader can report it as `file:line:col`."""

    path: tuple[Any, ...]
    message: str
    at: Literal["key", "value"] = "value"


@dataclass(frozen=True)
class JobWork:
    """Everything the worker needs, copied out of the database before the attempt starts."""

    job_id: int
    run_id: int
    run_number: int
    attempt: int
    job: JobPlan
    project_id: int
    project_name: str
    repo_url: str
    secrets: Mapping[str, str]
    ref: str
    sha: str
    default_branch: str = "main"


# Writes a kind's own rows (e.g. screenshot comparisons) in the transaction that finishes the
# attempt, so they exist exactly when the job's outcome does.
FinishWith = Callable[["Session", "Job", "Run"], None]


@dataclass(frozen=True)
class Outcome:
    status: str  # succeeded | failed | canceled | waiting
    reason: str | None
    exit_code: int | None = None
    results: dict[str, Any] | None = None
    finish_with: FinishWith | None = None
    # Killed at its time limit: what it did outside (e.g. an upload to a store) is unknown.
    timed_out: bool = False


@dataclass(frozen=True)
class Attempt:
    """One attempt of one job on a worker, as the kind's runner sees it."""

    ctx: Context
    work: JobWork
    workspace: Path
    artifacts_dir: Path
    env: Mapping[str, str]
    log: JobLog
    cancel: threading.Event
    redactor: Redactor
    # Where the job's own processes run (None only when INSTEP_UNSANDBOXED_JOBS allowed it).
    sandbox: Sandbox | None = None

    @property
    def job(self) -> JobPlan:
        return self.work.job


class StageKind(Protocol):
    """One kind of stage (`kind:` in instep.yml)."""

    # Read-only members, so a kind may declare them as plain class attributes.
    @property
    def name(self) -> str:
        """The `kind:` value in instep.yml."""
        ...

    @property
    def accepts(self) -> frozenset[str]:
        """The stage keys of KIND_SPECIFIC_KEYS this kind accepts."""
        ...

    @property
    def defaults(self) -> Mapping[str, Any]:
        """Raw defaults this kind gives its stages before validation (e.g. a gate runs once)."""
        ...

    @property
    def wait_reason(self) -> str | None:
        """Why a job of this kind is `waiting` (people must decide); None when it never waits."""
        ...

    def check(self, name: str, stage: StageSpec) -> list[Problem]:
        """What this kind needs or refuses in a validated stage, with paths into the file."""
        ...

    def default_queue(self, platform: str | None) -> str:
        """The Celery queue of its jobs when the stage names no `queue:`."""
        ...

    def leases_devices(self, stage: StageSpec) -> bool:
        """Whether the stage leases devices and splits its `shards` inside one job (instead of
        one job per shard)."""
        ...

    def run(self, attempt: Attempt) -> Outcome:
        """Run one attempt in its checked-out workspace; heavy imports happen here, lazily."""
        ...


def command_problems(name: str, stage: StageSpec, *, required: bool, hint: str = "") -> list[Problem]:
    """The `run:`/`lane:` rule shared by kinds that may run a command: never both, and at least
    one when `required`."""
    at = ("stages", name)
    if stage.run is not None and stage.lane is not None:
        return [
            Problem(
                (*at, "lane"), f"stage {name!r} has both `run:` and `lane:` (expected exactly one)", "key"
            )
        ]
    if required and stage.run is None and stage.lane is None:
        expected = "`run:` with a command" if stage.kind == "run" else "exactly one of `run:` or `lane:`"
        return [Problem(at, f"stage {name!r} has nothing to run (expected {expected}{hint})", "key")]
    return []


def runs_declared_command(stage: StageSpec) -> bool:
    """A stage with `run:` or `lane:` runs that, whatever its kind."""
    return stage.run is not None or stage.lane is not None


def run_declared(attempt: Attempt) -> Outcome | None:
    """Run the job's `run:` command or `lane:`; None when it declares neither."""
    if attempt.job.spec.run:
        from orchestrator.stages.command import run_command

        return run_command(attempt)
    if attempt.job.spec.lane:
        from orchestrator.stages.lane import run_lane

        return run_lane(attempt)
    return None
