"""Planning a queued run on a worker: fetch the commit, read its instep.yml, plan the job DAG."""

from __future__ import annotations

import logging

from orchestrator.context import Context
from orchestrator.db.models import Project, Run
from orchestrator.planner import Trigger, plan_run
from orchestrator.projects import clone_url
from orchestrator.scheduler import advance, apply_plan, fail_planning
from orchestrator.spec import SpecError, parse_spec
from orchestrator.workspaces import WorkspaceError, ensure_commit, read_file_at

log = logging.getLogger(__name__)

SPEC_PATH = "instep.yml"
_TRIGGER_KINDS = {"push": "push", "manual": "manual", "api": "api", "rerun": "manual"}


def plan_queued_run(ctx: Context, run_id: int) -> None:
    with ctx.db.session() as s:
        run = s.get(Run, run_id)
        if run is None or run.status != "queued":
            return
        project = s.get(Project, run.project_id)
        assert project is not None
        has_jobs = bool(run.jobs)
        repo_url, project_id, sha, ref, trigger = clone_url(project, ctx.sealer), project.id, run.sha, run.ref, run.trigger
    if has_jobs:  # a rerun carries its jobs over; nothing to plan
        with ctx.db.session() as s:
            dispatches = advance(s, run_id)
            s.commit()
        ctx.dispatcher.jobs(dispatches)
        return
    try:
        mirror = ensure_commit(ctx.settings.mirrors_dir, project_id, repo_url, sha)
        text = read_file_at(mirror, sha, SPEC_PATH)
        if text is None:
            raise _PlanningFailed(f"no {SPEC_PATH} at the root of commit {sha[:12]}")
        spec = parse_spec(text, filename=SPEC_PATH, known_devices=_known_devices(ctx))
        plan = plan_run(spec, Trigger(kind=_TRIGGER_KINDS.get(trigger, "api"), ref=ref, sha=sha))  # type: ignore[arg-type]
    except SpecError as exc:
        reason = f"invalid {SPEC_PATH}:\n{exc}"
    except (WorkspaceError, _PlanningFailed) as exc:
        reason = str(exc)
    else:
        with ctx.db.session() as s:
            dispatches = apply_plan(s, run_id, plan)
            s.commit()
        ctx.dispatcher.jobs(dispatches)
        return
    log.info("run %s failed at planning: %s", run_id, reason)
    with ctx.db.session() as s:
        fail_planning(s, run_id, reason)
        s.commit()


def _known_devices(ctx: Context) -> frozenset[str]:
    """Device profiles this installation offers: built-ins plus INSTEP_HOME/devices.yml."""
    from device_farm.profiles import ProfileError, load_inventory

    try:
        return frozenset(load_inventory(ctx.settings.home / "devices.yml").profiles)
    except ProfileError as exc:
        raise _PlanningFailed(f"the device inventory is invalid: {exc}") from exc


class _PlanningFailed(Exception):
    pass
