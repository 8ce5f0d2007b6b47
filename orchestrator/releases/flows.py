"""What the API, the CLI and the scheduler's loop ask of releases, one function per request: each
does its service call and the gate settlement in the caller's transaction and returns the jobs
to send once the caller has committed."""

from __future__ import annotations

import logging
from datetime import datetime
from fnmatch import fnmatchcase

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.context import Context
from orchestrator.db.models import Job, Project, Run, utcnow
from orchestrator.releases import service, settlement
from orchestrator.releases.models import Approval, Release
from orchestrator.releases.versions import InvalidVersion, version_from_tag
from orchestrator.runs import Dispatch
from orchestrator.spec.release import ReleaseSpec

log = logging.getLogger(__name__)
SPEC_PATH = "instep.yml"


def policy_of(ctx: Context, run: Run) -> ReleaseSpec:
    """The `release:` section of the run's instep.yml (defaults when it has none)."""
    from orchestrator.pipeline import spec_at
    from orchestrator.projects import clone_url
    from orchestrator.spec import SpecError
    from orchestrator.workspaces import WorkspaceError, ensure_commit

    cache = ctx.extras.setdefault("release_policies", {})
    if run.sha in cache:
        return cache[run.sha]
    project = run.project
    try:
        mirror = ensure_commit(ctx.settings.mirrors_dir, project.id, clone_url(project, ctx.sealer), run.sha)
        spec = spec_at(mirror, run.sha)
    except (WorkspaceError, SpecError) as exc:
        raise service.ReleaseRefused(
            f"cannot read the release policy of run {run.id} ({SPEC_PATH} at {run.sha[:12]}): {exc}"
        ) from None
    policy = (spec.release if spec is not None else None) or ReleaseSpec()
    if len(cache) > 256:
        cache.clear()
    cache[run.sha] = policy
    return policy


def default_branch_policy(ctx: Context, project: Project) -> tuple[ReleaseSpec, str]:
    """The `release:` section of instep.yml at the head of the project's default branch (read
    bounded), and where it was read; ReleaseRefused when it cannot be read."""
    from orchestrator.pipeline import spec_at
    from orchestrator.projects import clone_url
    from orchestrator.spec import SpecError
    from orchestrator.workspaces import WorkspaceError, ensure_commit, fetch_ref

    try:
        url = clone_url(project, ctx.sealer)
        sha = fetch_ref(ctx.settings.mirrors_dir, project.id, url, project.default_branch)
        spec = spec_at(ensure_commit(ctx.settings.mirrors_dir, project.id, url, sha), sha)
    except (WorkspaceError, SpecError) as exc:
        raise service.ReleaseRefused(
            f"cannot read the release policy ({SPEC_PATH} on {project.default_branch} of {project.name}): {exc}"
        ) from None
    where = f"{SPEC_PATH} at {project.default_branch} ({sha[:12]})"
    return (spec.release if spec is not None and spec.release is not None else ReleaseSpec()), where


def guarded_policy(ctx: Context, run: Run) -> ReleaseSpec:
    """The run's release policy, except which refs may use store credentials: those come from the
    default branch's instep.yml (spelled out), so a pushed branch cannot declare itself protected."""
    from orchestrator.job_environment import protected_refs

    policy = policy_of(ctx, run)
    trusted, _where = default_branch_policy(ctx, run.project)
    patterns = protected_refs(run.project.default_branch, trusted.protected_refs, trusted.from_tags)
    return policy.model_copy(update={"protected_refs": patterns})


def cut(
    ctx: Context,
    session: Session,
    *,
    run_id: int,
    version: str,
    who: service.Person,
    project: str | None = None,
    now: datetime | None = None,
) -> tuple[Release, list[Dispatch]]:
    now = now or utcnow()
    run = session.get(Run, run_id)
    if run is None:
        raise service.ReleaseNotFound(f"no run with id {run_id}")
    release = service.cut_release(
        session,
        run_id=run_id,
        version=version,
        who=who,
        policy=guarded_policy(ctx, run),
        exists=ctx.store.exists,
        project=project,
        now=now,
    )
    return release, settlement.settle_run(session, run_id, ctx.store.exists, now) + _superseded_runs(
        session, release, now
    )


def _superseded_runs(session: Session, newer: Release, now: datetime) -> list[Dispatch]:
    """Runs of releases this cut superseded: their gate jobs were canceled, so let them finish."""
    from orchestrator.scheduler import advance

    dispatches: list[Dispatch] = []
    for run_id in session.scalars(
        select(Release.run_id).where(
            Release.project_id == newer.project_id, Release.state == "superseded", Release.id != newer.id
        )
    ):
        run = session.get(Run, run_id)
        if run is not None and run.status in ("running", "waiting"):
            dispatches += advance(session, run_id, now)
    return dispatches


def decide(
    ctx: Context,
    session: Session,
    release_id: int,
    who: service.Person,
    decision: str,
    *,
    comment: str = "",
    role: str | None = None,
    override_reason: str | None = None,
    now: datetime | None = None,
) -> tuple[Approval, list[Dispatch]]:
    now = now or utcnow()
    row = service.decide(
        session,
        release_id,
        who,
        decision,
        comment=comment,
        role=role,
        override_reason=override_reason,
        now=now,
    )
    release = service.get_release(session, release_id)
    return row, settlement.settle_run(session, release.run_id, ctx.store.exists, now)


def cancel(
    ctx: Context, session: Session, release_id: int, who: service.Person, reason: str = ""
) -> tuple[Release, list[Dispatch]]:
    release = service.cancel_release(session, release_id, who, reason)
    return release, service.after_cancel(session, release)


def settle_gates(ctx: Context, session: Session, now: datetime | None = None) -> list[Dispatch]:
    """One tick of the scheduler's loop: cut releases for tag runs that reached their gate, and
    re-evaluate every waiting gate (freeze windows and soak time move with the clock)."""
    now = now or utcnow()
    dispatches = cut_for_tags(ctx, session, now)
    return dispatches + settlement.settle_waiting_gates(session, ctx.store.exists, now)


def cut_for_tags(ctx: Context, session: Session, now: datetime | None = None) -> list[Dispatch]:
    """A tag push matching `release.from_tags` cuts its release (version from the tag) as soon
    as its run is under way; the pusher is the author for four eyes."""
    now = now or utcnow()
    seen: set[int] = ctx.extras.setdefault("tag_runs_without_release", set())
    candidates = session.scalars(
        select(Run)
        .where(
            Run.ref.like("refs/tags/%"),
            Run.status.in_(["running", "waiting"]),
            Run.id.in_(select(Job.run_id).where(Job.kind == "gate")),
            Run.id.not_in(select(Release.run_id)),
        )
        .order_by(Run.id)
        .limit(50)
    ).all()
    dispatches: list[Dispatch] = []
    for run in candidates:
        if run.id in seen:
            continue
        tag = run.ref.removeprefix("refs/tags/")
        try:
            policy = policy_of(ctx, run)
        except service.ReleaseError as exc:
            log.warning("tag %s of run %s: %s", tag, run.id, exc)
            seen.add(run.id)
            continue
        if not any(fnmatchcase(tag, glob) for glob in policy.from_tags):
            seen.add(run.id)
            continue
        who = service.System(name=service.person_of(run.created_by) or f"tag {tag}", role="tag_push")
        try:
            version = version_from_tag(tag, policy.version_scheme)
            with session.begin_nested():
                _release, more = cut(ctx, session, run_id=run.id, version=version, who=who, now=now)
            dispatches += more
        except (InvalidVersion, service.ReleaseError) as exc:
            log.warning("tag %s of run %s cuts no release: %s", tag, run.id, exc)
            seen.add(run.id)
    return dispatches


def project_id_of(session: Session, name: str) -> int:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise service.ReleaseNotFound(f"no project named {name!r}")
    return project.id
