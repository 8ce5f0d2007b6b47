"""Planning a queued run on a worker: fetch the commit, read its instep.yml, plan the job DAG."""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path

from sqlalchemy.orm import Session

from orchestrator.context import Context
from orchestrator.db.models import Project, Run
from orchestrator.planner import Trigger, plan_run
from orchestrator.projects import clone_url
from orchestrator.scheduler import advance, apply_plan, fail_planning
from orchestrator.spec import PipelineSpec, SpecError, parse_spec_bytes
from orchestrator.spec.document import size_issue
from orchestrator.spec.limits import MAX_FILE_BYTES
from orchestrator.workspaces import (
    FileTooLarge,
    WorkspaceError,
    commit_message,
    ensure_commit,
    read_bytes_at,
)

log = logging.getLogger(__name__)

SPEC_PATH = "instep.yml"
REASON_ISSUES = 20  # problems quoted in a failed run's reason; `instep validate` lists them all
_TRIGGER_KINDS = {"push": "push", "manual": "manual", "api": "api", "rerun": "manual"}


def spec_at(mirror: Path, sha: str, known_devices: Collection[str] | None = None) -> PipelineSpec | None:
    """The commit's instep.yml, validated; None when the commit has none. Read bounded (a file
    over MAX_FILE_BYTES is a SpecError with its size, and is never read whole)."""
    try:
        raw = read_bytes_at(mirror, sha, SPEC_PATH, MAX_FILE_BYTES)
    except FileTooLarge as exc:
        raise SpecError([size_issue(exc.size, SPEC_PATH)]) from None
    return None if raw is None else parse_spec_bytes(raw, filename=SPEC_PATH, known_devices=known_devices)


def plan_queued_run(ctx: Context, run_id: int) -> None:
    with ctx.db.session() as s:
        run = s.get(Run, run_id)
        if run is None or run.status != "queued":
            return
        project = s.get(Project, run.project_id)
        assert project is not None
        has_jobs = bool(run.jobs)
        repo_url, project_id, sha, ref, trigger = (
            clone_url(project, ctx.sealer),
            project.id,
            run.sha,
            run.ref,
            run.trigger,
        )
    if has_jobs:  # a rerun carries its jobs over; nothing to plan
        with ctx.db.session() as s:
            dispatches = advance(s, run_id)
            s.commit()
        ctx.dispatcher.jobs(dispatches)
        return
    message = None
    try:
        mirror = ensure_commit(ctx.settings.mirrors_dir, project_id, repo_url, sha)
        message = commit_message(mirror, sha)
        spec = spec_at(mirror, sha, _known_devices(ctx))
        if spec is None:
            raise _PlanningFailed(f"no {SPEC_PATH} at the root of commit {sha[:12]}")
        plan = plan_run(spec, Trigger(kind=_TRIGGER_KINDS.get(trigger, "api"), ref=ref, sha=sha))  # type: ignore[arg-type]
    except SpecError as exc:
        reason = _spec_reason(exc)
    except (WorkspaceError, _PlanningFailed) as exc:
        reason = str(exc)
    except Exception as exc:  # a bug must still end the run with a reason, never leave it queued
        log.exception("run %s: planning raised", run_id)
        reason = _unexpected("planning failed", exc)
    else:
        try:
            with ctx.db.session() as s:
                _keep_message(s, run_id, message)
                dispatches = apply_plan(s, run_id, plan)
                s.commit()
        except Exception as exc:
            log.exception("run %s: recording the planned jobs raised", run_id)
            reason = _unexpected("the planned jobs could not be recorded", exc)
        else:
            ctx.dispatcher.jobs(dispatches)
            return
    log.info("run %s failed at planning: %s", run_id, reason)
    with ctx.db.session() as s:
        _keep_message(s, run_id, message)
        fail_planning(s, run_id, reason)
        s.commit()


def _keep_message(session: Session, run_id: int, message: str | None) -> None:
    """Keep the commit's message with the run (shown in lists, searched by the text filter), in
    the transaction that records the plan or the planning failure."""
    run = session.get(Run, run_id)
    if message is not None and run is not None and run.message is None:
        run.message = message


def _spec_reason(exc: SpecError) -> str:
    shown = [str(issue) for issue in exc.errors[:REASON_ISSUES]]
    more = len(exc.errors) - len(shown)
    if more:
        shown.append(f"... and {more:,} more (run `instep validate` on the file to see them all)")
    return f"invalid {SPEC_PATH}:\n" + "\n".join(shown)


def _unexpected(what: str, exc: Exception) -> str:
    detail = str(exc)
    detail = detail if len(detail) <= 300 else detail[:300] + "..."
    return f"{what}: {type(exc).__name__}: {detail} (an Instep bug; the worker's log has the traceback)"


def _known_devices(ctx: Context) -> frozenset[str]:
    """Device profiles this installation offers: built-ins plus INSTEP_HOME/devices.yml."""
    from device_farm.profiles import ProfileError, load_inventory

    try:
        return frozenset(load_inventory(ctx.settings.home / "devices.yml").profiles)
    except ProfileError as exc:
        raise _PlanningFailed(f"the device inventory is invalid: {exc}") from exc


class _PlanningFailed(Exception):
    pass
