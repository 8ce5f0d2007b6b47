"""Releases as stored: cutting a release from a run, approvals by role, canceling, the audit trail
and queries. Functions flush; the caller commits and then sends the returned dispatches. Gate
evaluation of stored releases (and releasing the submit job) is `settlement.py`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.db.models import Artifact, Job, Project, Run, utcnow
from orchestrator.releases.models import Approval, AuditEvent, Release, ReleasePlatform
from orchestrator.releases.states import BEFORE_SUBMISSION, FINAL_PLATFORM, check_move
from orchestrator.releases.versions import InvalidVersion, check_version
from orchestrator.runs import Dispatch, move_job
from orchestrator.spec.release import ReleaseSpec

MAX_PAGE = 200
SYSTEM = "instep"


class ReleaseError(Exception):
    """A release request that cannot be applied; `status` is the HTTP status that fits."""

    status = 409


class ReleaseNotFound(ReleaseError):
    status = 404


class ReleaseRefused(ReleaseError):
    status = 409


class InvalidRelease(ReleaseError):
    status = 422


class NotAllowed(ReleaseError):
    status = 403


class Person(Protocol):
    """Who acts: `orchestrator.actors.Actor` (a session's user or an API token's name)."""

    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def via(self) -> str: ...


@dataclass(frozen=True)
class System:
    """Instep itself, e.g. cutting a release for a tag push."""

    name: str = SYSTEM
    role: str = "system"
    via: str = "instep"


def person_of(label: str | None) -> str | None:
    """The person in a stored label: `token:ana`, `user:ana` and `ana` are all ana."""
    if not label:
        return None
    for prefix in ("token:", "user:"):
        if label.startswith(prefix):
            return label[len(prefix) :]
    return label


def audit(
    session: Session,
    project_id: int,
    release_id: int | None,
    who: Person,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    session.add(
        AuditEvent(
            project_id=project_id,
            release_id=release_id,
            person=who.name,
            role=who.role,
            action=action,
            subject=subject,
            details=details or {},
            at=now or utcnow(),
        )
    )


def notify(session: Session, release: Release, event: str, summary: str, **extra: Any) -> None:
    """Queue a notification in this transaction (the notifications outbox)."""
    from orchestrator.notifications import publish

    publish(
        session,
        release.project_id,
        event,
        {
            "summary": summary,
            "path": f"/releases/{release.id}",
            "release": {"id": release.id, "version": release.version, "run_id": release.run_id},
            **extra,
        },
    )


def gate_jobs(session: Session, run_id: int) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.run_id == run_id, Job.kind == "gate").order_by(Job.id)))


def release_platforms_of(jobs: Sequence[Job]) -> list[str]:
    """A per-platform gate names its platforms; a single gate holds every platform of the run."""
    gates = [j for j in jobs if j.kind == "gate"]
    named = [j.platform for j in gates if j.platform]
    if named and len(named) == len(gates):
        return list(dict.fromkeys(named))
    return list(dict.fromkeys(j.platform for j in jobs if j.platform)) or ["all"]


def build_candidate(
    session: Session, run_id: int, jobs: Sequence[Job], platform: str, exists: Callable[[str], bool]
) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The platform's candidate (its build jobs' files with sha256) once the builds are done:
    (candidate, None); (None, None) while they still run; (None, why) when it is missing."""
    builds = [j for j in jobs if j.kind == "build" and j.platform in (platform, None)]
    if not builds:
        return None, f"the pipeline has no build stage for {platform}, so there is no candidate"
    if any(j.status not in ("succeeded", "failed", "canceled", "skipped") for j in builds):
        return None, None
    unfinished = [j.key for j in builds if j.status != "succeeded"]
    if unfinished:
        return None, f"{', '.join(unfinished)} did not succeed, so there is no candidate"
    rows = session.scalars(
        select(Artifact)
        .where(
            Artifact.run_id == run_id, Artifact.job_id.in_([j.id for j in builds]), Artifact.kind == "file"
        )
        .order_by(Artifact.id)
    ).all()
    rows = [a for a in rows if _is_build_output(a.name)]
    if not rows:
        keys = ", ".join(j.key for j in builds)
        return None, f"the run's build artifacts are missing: {keys} left no files in its artifacts directory"
    gone = [a.name for a in rows if not exists(a.store_key)]
    if gone:
        return None, f"the run's build artifacts are missing from the artifact store: {', '.join(gone[:5])}"
    return [{"name": a.name, "sha256": a.sha256, "size": a.size, "artifact_id": a.id} for a in rows], None


# What a build lane leaves beside its outputs: fastlane's report folder (lanes.runner) and
# hidden files such as the artifact folder's marker (lanes.artifacts).
NOT_CANDIDATE_FOLDERS = ("fastlane-report",)


def _is_build_output(name: str) -> bool:
    """Whether an artifact (named `<job key>/<path>`) is part of the candidate."""
    parts = name.split("/")[1:]
    return bool(parts) and parts[0] not in NOT_CANDIDATE_FOLDERS and not any(p.startswith(".") for p in parts)


def _lock_release(session: Session, release_id: int) -> Release:
    release = session.scalar(select(Release).where(Release.id == release_id).with_for_update())
    if release is None:
        raise ReleaseNotFound(f"no release with id {release_id}")
    return release


def get_release(session: Session, release_id: int) -> Release:
    release = session.get(Release, release_id)
    if release is None:
        raise ReleaseNotFound(f"no release with id {release_id}")
    return release


def cut_release(
    session: Session,
    *,
    run_id: int,
    version: str,
    who: Person,
    policy: ReleaseSpec,
    exists: Callable[[str], bool],
    project: str | None = None,
    now: datetime | None = None,
) -> Release:
    """Cut `version` from a run that has a gate: one release platform per platform, each with
    its candidate (when the builds are done) and build number. Older releases of the project
    still before submission are superseded."""
    now = now or utcnow()
    # Not the run's row lock: a finishing job holds its job row and then waits for the run, and
    # the settlement that follows a cut locks the gate job, so locking the run here could deadlock.
    run = session.get(Run, run_id)
    if run is None:
        raise ReleaseNotFound(f"no run with id {run_id}")
    owner = session.get(Project, run.project_id)
    assert owner is not None
    if project is not None and owner.name != project:
        raise ReleaseNotFound(f"run {run_id} belongs to project {owner.name!r}, not {project!r}")
    # One cut at a time per project: versions and superseding are decided under this lock.
    session.execute(select(Project.id).where(Project.id == owner.id).with_for_update())
    jobs = list(session.scalars(select(Job).where(Job.run_id == run.id).order_by(Job.id)))
    gates = [j for j in jobs if j.kind == "gate"]
    if not gates:
        raise InvalidRelease(
            f"run {run_id}'s pipeline has no `gate` stage, so it cannot be released "
            "(add a `gate:` stage after the stages a release needs, then run the pipeline again)"
        )
    if all(j.status in ("skipped", "canceled", "failed") for j in gates) or run.status in (
        "canceled",
        "skipped",
    ):
        raise ReleaseRefused(
            f"run {run_id} {run.status} before its gate"
            + (f" ({run.reason})" if run.reason else "")
            + "; fix it and cut the release from a new run"
        )
    try:
        check_version(version, policy.version_scheme)
    except InvalidVersion as exc:
        raise InvalidRelease(str(exc)) from None
    existing = session.scalar(select(Release).where(Release.run_id == run.id))
    if existing is not None:
        raise ReleaseRefused(f"run {run_id} already has release {existing.version} (id {existing.id})")
    taken = session.scalar(select(Release).where(Release.project_id == owner.id, Release.version == version))
    if taken is not None:
        raise ReleaseRefused(
            f"project {owner.name!r} already has a release {version} (id {taken.id}, {taken.state}); "
            "pick a new version"
        )
    platforms = release_platforms_of(jobs)
    candidates: dict[str, list[dict[str, Any]] | None] = {}
    for platform in platforms:
        candidate, missing = build_candidate(session, run.id, jobs, platform, exists)
        if missing is not None:
            raise ReleaseRefused(f"cannot cut {version} from run {run_id} on {platform}: {missing}")
        candidates[platform] = candidate
    release = Release(
        project_id=owner.id,
        run_id=run.id,
        version=version,
        state="active",
        created_by=who.name,
        policy=policy.model_dump(mode="json"),
        pushed_by=person_of(run.created_by),
        created_at=now,
    )
    session.add(release)
    session.flush()
    for platform in platforms:
        builds = [j for j in jobs if j.kind == "build" and j.platform in (platform, None)]
        numbers = {n for j in builds if (n := (j.spec or {}).get("build_number")) is not None}
        finished = [j.finished_at for j in builds if j.finished_at is not None]
        session.add(
            ReleasePlatform(
                release_id=release.id,
                platform=platform,
                state="preparing",
                build_number=max(numbers) if numbers else None,
                candidate=candidates[platform] or [],
                soak_started_at=max(finished) if candidates[platform] and finished else None,
                updated_at=now,
            )
        )
    audit(
        session,
        owner.id,
        release.id,
        who,
        "cut",
        f"release {version}",
        {"run_id": run.id, "ref": run.ref, "sha": run.sha, "platforms": platforms},
        now,
    )
    _supersede_older(session, release, who, now)
    session.flush()
    return release


def _supersede_older(session: Session, newer: Release, who: Person, now: datetime) -> None:
    older = session.scalars(
        select(Release).where(
            Release.project_id == newer.project_id, Release.state == "active", Release.id != newer.id
        )
    ).all()
    for release in older:
        states = [p.state for p in release.platforms]
        if not all(s in BEFORE_SUBMISSION or s in FINAL_PLATFORM for s in states):
            continue  # already at a store: superseding is the release manager's call
        why = f"superseded by {newer.version} (release {newer.id})"
        _end_before_submission(session, release, "superseded", why, now)
        audit(
            session,
            release.project_id,
            release.id,
            who,
            "superseded",
            f"release {release.version}",
            {"by": newer.id},
            now,
        )


def _end_before_submission(session: Session, release: Release, state: str, why: str, now: datetime) -> None:
    for platform in release.platforms:
        if platform.state not in FINAL_PLATFORM:
            check_move(f"{release.version} {platform.platform}", platform.state, "canceled")
            platform.state, platform.reason, platform.updated_at = "canceled", why, now
    release.state, release.reason = state, why
    for job in session.scalars(
        select(Job).where(Job.run_id == release.run_id, Job.kind.in_(["gate", "submit"])).with_for_update()
    ):
        if job.status in ("pending", "queued", "waiting"):
            move_job(session, job, "canceled", f"release {why}", now=now)


APPROVER_ROLES = ("qa", "release_manager")


def decide(
    session: Session,
    release_id: int,
    who: Person,
    decision: str,
    *,
    comment: str = "",
    role: str | None = None,
    override_reason: str | None = None,
    now: datetime | None = None,
) -> Approval:
    """Record an approval or a rejection in a role. QA signs off as `qa`, a release manager
    approves as `release_manager`; an admin may act in either role only as an override with a
    reason. Four eyes refuses an approval by the person who cut the release or pushed it."""
    now = now or utcnow()
    if decision not in ("approve", "reject"):
        raise InvalidRelease(f"decision {decision!r} is not one of: approve, reject")
    override = who.role == "admin"
    if override:
        acting = role or "release_manager"
        if not (override_reason or "").strip():
            raise InvalidRelease(
                f"an admin {decision}s only as an override of the {acting} role: give the reason "
                "(`override_reason`, or `--override-reason` on the command line)"
            )
    elif who.role in APPROVER_ROLES:
        acting = role or who.role
        if acting != who.role:
            raise NotAllowed(f"role {who.role!r} may not {decision} as {acting} (needs role {acting})")
    else:
        raise NotAllowed(f"role {who.role!r} may not {decision} a release (needs role qa or release_manager)")
    if acting not in APPROVER_ROLES:
        raise InvalidRelease(f"role {acting!r} does not approve releases (expected qa or release_manager)")
    if decision == "reject" and not comment.strip():
        raise InvalidRelease("a rejection needs a comment saying what must change")
    release = _lock_release(session, release_id)
    if release.state != "active":
        raise ReleaseRefused(
            f"release {release.version} is {release.state}"
            + (f" ({release.reason})" if release.reason else "")
            + f"; {'an approval' if decision == 'approve' else 'a rejection'} no longer applies to it"
        )
    if not any(p.state in ("preparing", "waiting_for_gate") for p in release.platforms):
        raise ReleaseRefused(f"release {release.version} has passed its gate on every platform already")
    policy = ReleaseSpec.model_validate(release.policy)
    if decision == "approve" and policy.four_eyes and not override:
        run = session.get(Run, release.run_id)
        if who.name == release.created_by:
            raise NotAllowed(
                f"four eyes: {who.name} cut release {release.version} and may not approve it; "
                "another person must approve"
            )
        if run is not None and who.name == person_of(run.created_by):
            raise NotAllowed(
                f"four eyes: {who.name} pushed the commit of release {release.version} and may not "
                "approve it; another person must approve"
            )
    row = Approval(
        release_id=release.id,
        role=acting,
        person=who.name,
        via=who.via,
        decision=decision,
        comment=comment,
        override=override,
        override_reason=override_reason if override else None,
        at=now,
    )
    session.add(row)
    details: dict[str, Any] = {"role": acting, "comment": comment}
    if override:
        details.update(override=True, override_reason=override_reason)
    action = ("override_" if override else "") + ("approved" if decision == "approve" else "rejected")
    audit(session, release.project_id, release.id, who, action, f"release {release.version}", details, now)
    event = "release.approved" if decision == "approve" else "release.rejected"
    verb = "approved" if decision == "approve" else "rejected"
    notify(
        session,
        release,
        event,
        f"{who.name} ({acting}{', admin override' if override else ''}) {verb} release {release.version}"
        + (f": {comment}" if comment else ""),
        person=who.name,
        role=acting,
        comment=comment,
    )
    session.flush()
    return row


def cancel_release(
    session: Session, release_id: int, who: Person, reason: str = "", now: datetime | None = None
) -> Release:
    """Cancel a release that no store has seen yet; its gate and submit jobs are canceled."""
    now = now or utcnow()
    if who.role not in ("release_manager", "admin"):
        raise NotAllowed(f"role {who.role!r} may not cancel a release (needs role release_manager)")
    release = _lock_release(session, release_id)
    if release.state != "active":
        raise ReleaseRefused(f"release {release.version} is {release.state} already")
    sent = [p.platform for p in release.platforms if p.state not in BEFORE_SUBMISSION | FINAL_PLATFORM]
    if sent:
        raise ReleaseRefused(
            f"release {release.version} was already handed to the store on {', '.join(sent)}; "
            "halt its rollout instead"
        )
    why = f"canceled by {who.name}" + (f": {reason}" if reason else "")
    _end_before_submission(session, release, "canceled", why, now)
    audit(
        session,
        release.project_id,
        release.id,
        who,
        "canceled",
        f"release {release.version}",
        {"reason": reason},
        now,
    )
    session.flush()
    return release


def after_cancel(session: Session, release: Release, now: datetime | None = None) -> list[Dispatch]:
    """Let the run go on (or finish) once its gate and submit jobs were canceled."""
    from orchestrator.scheduler import advance

    return advance(session, release.run_id, now)


def list_releases(
    session: Session,
    project_id: int | None = None,
    state: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Release]:
    query = select(Release).order_by(Release.id.desc()).limit(min(limit, MAX_PAGE))
    if project_id is not None:
        query = query.where(Release.project_id == project_id)
    if state is not None:
        query = query.where(Release.state == state)
    if before_id is not None:
        query = query.where(Release.id < before_id)
    return list(session.scalars(query))


def approvals_of(session: Session, release_id: int) -> list[Approval]:
    return list(
        session.scalars(select(Approval).where(Approval.release_id == release_id).order_by(Approval.id))
    )


def audit_of(session: Session, release_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.release_id == release_id).order_by(AuditEvent.id))
    )
