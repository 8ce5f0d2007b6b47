"""The screenshot stage and QA review, as stored: comparisons of a run's captures with the branch
baselines, reviews that promote or reject, and settling the waiting stage. The decisions come
from `screenshots.review` and `screenshots.stage`; this module applies them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.artifacts import ArtifactError, ArtifactStore
from orchestrator.db.models import Comparison, Event, Job, Project, Review, Run, utcnow
from orchestrator.runs import Dispatch, move_job
from orchestrator.scheduler import advance
from screenshots.baselines import BaselineKey, BaselineRepository, InvalidName
from screenshots.diff import Status
from screenshots.renditions import Renditions
from screenshots.review import (
    ComparisonRecord,
    Decision,
    ReviewRecord,
    ReviewRefused,
    StageState,
    StageVerdict,
    check_review,
    stage_verdict,
)
from screenshots.rules import DiffSettings
from screenshots.stage import compare_run

SHARED_PLATFORM = "all"  # the platform part of baseline keys for stages that run once


class ReviewError(Exception):
    """A review request that cannot be applied; the message says why."""


class BlobAdapter:
    """The artifact store seen as the screenshots package's BlobStore, under `screenshots/`."""

    def __init__(self, store: ArtifactStore, prefix: str = "screenshots") -> None:
        self.store = store
        self.prefix = prefix

    def put(self, key: str, data: bytes) -> None:
        self.store.put_bytes(f"{self.prefix}/{key}", data)

    def get(self, key: str) -> bytes:
        try:
            return self.store.get(f"{self.prefix}/{key}")
        except ArtifactError as exc:
            raise KeyError(key) from exc

    def exists(self, key: str) -> bool:
        return self.store.exists(f"{self.prefix}/{key}")


def branch_of(ref: str, default_branch: str) -> str:
    """Baselines live per branch; a tag compares against the default branch."""
    return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else default_branch


def repository(store: ArtifactStore, default_branch: str) -> BaselineRepository:
    return BaselineRepository(BlobAdapter(store), default_branch=default_branch)


@dataclass(frozen=True)
class PreparedComparison:
    """A comparison computed on the worker, ready to be stored with the job's outcome."""

    name: str
    status: str
    diff_pixels: int | None
    width: int | None
    height: int | None
    details: dict[str, Any]
    baseline_version: int | None
    baseline_key: str | None
    candidate_key: str | None
    diff_key: str | None
    thumbnail_key: str | None


def captured_screens(artifacts_dir: Path) -> dict[str, bytes]:
    """PNGs named <device-profile>/<locale>/<screen>.png in a capture job's artifacts."""
    found: dict[str, bytes] = {}
    for path in sorted(artifacts_dir.glob("*/*/*.png")):
        rel = path.relative_to(artifacts_dir).as_posix()
        if not rel.startswith(("shards", "workspace/")):
            found[rel] = path.read_bytes()
    return found


def compare_captures(
    store: ArtifactStore,
    *,
    project: str,
    platform: str | None,
    branch: str,
    default_branch: str,
    captured: dict[str, bytes],
    settings: DiffSettings | None = None,
) -> tuple[list[PreparedComparison], StageVerdict]:
    """Compare captures with the branch baselines, store candidate, diff and thumbnail images,
    and say what the stage waits for (every change, new or missing screen needs a review)."""
    blobs = BlobAdapter(store)
    repo = BaselineRepository(blobs, default_branch=default_branch)
    renditions = Renditions(blobs)
    settings = settings or DiffSettings()
    plat = platform or SHARED_PLATFORM
    results = compare_run(
        repo, project=project, platform=plat, branch=branch, captured=captured, settings=settings
    )
    prepared: list[PreparedComparison] = []
    for item in results:
        diff = item.diff
        candidate = captured.get(diff.name)
        candidate_key = thumbnail_key = diff_key = baseline_key = None
        if candidate is not None:
            candidate_key = f"candidates/{hashlib.sha256(candidate).hexdigest()}.png"
            if not blobs.exists(candidate_key):
                blobs.put(candidate_key, candidate)
            if diff.status is not Status.ERROR:
                thumbnail_key = renditions.thumbnail(candidate)
        if item.baseline is not None and item.baseline.version.sha256 and item.key is not None:
            baseline_key = f"baselines/{project}/blobs/{item.baseline.version.sha256}.png"
            if candidate is not None and diff.status is Status.CHANGED:
                baseline = repo.image(project, item.baseline.version)
                diff_key = renditions.diff_image(baseline, candidate, settings.for_screen(diff.name))
        details = diff.to_json()
        prepared.append(
            PreparedComparison(
                name=diff.name,
                status=diff.status.value,
                diff_pixels=diff.diff_pixels,
                width=diff.width,
                height=diff.height,
                details=details,
                baseline_version=item.baseline.version.version if item.baseline else None,
                baseline_key=baseline_key,
                candidate_key=candidate_key,
                diff_key=diff_key,
                thumbnail_key=thumbnail_key,
            )
        )
    records = [
        _record(str(i), 0, 0, branch, project, plat, p.name, p.status, p.details)
        for i, p in enumerate(prepared)
    ]
    return prepared, stage_verdict(records, [])


def store_comparisons(
    session: Session,
    job: Job,
    run: Run,
    branch: str,
    platform: str | None,
    prepared: list[PreparedComparison],
) -> None:
    for p in prepared:
        session.add(
            Comparison(
                run_id=run.id,
                job_id=job.id,
                project_id=run.project_id,
                branch=branch,
                platform=platform or SHARED_PLATFORM,
                name=p.name,
                status=p.status,
                diff_pixels=p.diff_pixels,
                width=p.width,
                height=p.height,
                details=p.details,
                baseline_version=p.baseline_version,
                baseline_key=p.baseline_key,
                candidate_key=p.candidate_key,
                diff_key=p.diff_key,
                thumbnail_key=p.thumbnail_key,
            )
        )
    session.flush()


def _record(
    cid: str,
    run_id: int,
    run_number: int,
    branch: str,
    project: str,
    platform: str,
    name: str,
    status: str,
    details: dict[str, Any],
) -> ComparisonRecord:
    try:
        key = BaselineKey.from_artifact_name(project, platform, name)
    except InvalidName:
        key = BaselineKey(project, platform, "invalid", "invalid", "invalid")
    return ComparisonRecord(
        id=cid,
        run_id=str(run_id),
        run_number=run_number,
        branch=branch,
        key=key,
        status=Status(status),
        error=details.get("error"),
    )


def _records(session: Session, comparisons: list[Comparison]) -> list[ComparisonRecord]:
    out = []
    for c in comparisons:
        run = session.get(Run, c.run_id)
        project = session.get(Project, c.project_id)
        assert run is not None and project is not None
        out.append(
            _record(
                str(c.id),
                c.run_id,
                run.number,
                c.branch,
                project.name,
                c.platform,
                c.name,
                c.status,
                c.details,
            )
        )
    return out


def _reviews(session: Session, comparison_ids: list[int]) -> list[ReviewRecord]:
    rows = session.scalars(select(Review).where(Review.comparison_id.in_(comparison_ids)).order_by(Review.id))
    return [
        ReviewRecord(str(r.comparison_id), Decision(r.decision), r.reviewer, r.id, r.comment) for r in rows
    ]


def job_verdict(session: Session, job: Job) -> StageVerdict:
    comparisons = list(
        session.scalars(select(Comparison).where(Comparison.job_id == job.id).order_by(Comparison.id))
    )
    return stage_verdict(_records(session, comparisons), _reviews(session, [c.id for c in comparisons]))


def review(
    session: Session,
    store: ArtifactStore,
    comparison_id: int,
    decision: str,
    reviewer: str,
    comment: str = "",
) -> tuple[Review, list[Dispatch]]:
    """Record one QA decision: approving promotes the candidate to the branch baseline (every older
    version is kept), rejecting fails the stage. Settles the stage when nothing awaits review."""
    try:
        choice = Decision(decision)
    except ValueError:
        raise ReviewError(f"decision {decision!r} is not one of: approved, rejected") from None
    comparison = session.scalar(select(Comparison).where(Comparison.id == comparison_id).with_for_update())
    if comparison is None:
        raise LookupError(f"no comparison with id {comparison_id}")
    # Promotions rewrite the branch manifest: one at a time per project, across processes.
    project = session.scalar(select(Project).where(Project.id == comparison.project_id).with_for_update())
    assert project is not None
    others = list(
        session.scalars(
            select(Comparison).where(
                Comparison.project_id == comparison.project_id,
                Comparison.name == comparison.name,
                Comparison.branch == comparison.branch,
                Comparison.platform == comparison.platform,
                Comparison.id != comparison.id,
            )
        )
    )
    [record] = _records(session, [comparison])
    try:
        action = check_review(record, choice, _records(session, others))
    except ReviewRefused as exc:
        raise ReviewError(str(exc)) from None
    version = None
    if choice is Decision.APPROVED:
        repo = repository(store, project.default_branch)
        png = None
        if action.value == "promote_candidate":
            if comparison.candidate_key is None:
                raise ReviewError(f"comparison {comparison.id} has no candidate image to promote")
            png = BlobAdapter(store).get(comparison.candidate_key)
        promoted, _created = repo.promote(
            record.key,
            comparison.branch,
            png,
            approved_by=reviewer,
            run_id=str(comparison.run_id),
            comment=comment,
        )
        version = promoted.version
    row = Review(
        comparison_id=comparison.id,
        decision=choice.value,
        reviewer=reviewer,
        comment=comment,
        baseline_version=version,
    )
    session.add(row)
    session.add(
        Event(
            run_id=comparison.run_id,
            job_id=comparison.job_id,
            subject=f"review {comparison.name}",
            from_status=comparison.status,
            to_status=choice.value,
            reason=f"by {reviewer}" + (f": {comment}" if comment else ""),
            at=utcnow(),
        )
    )
    session.flush()
    return row, settle(session, comparison.job_id)


def settle(session: Session, job_id: int) -> list[Dispatch]:
    """End a waiting screenshot job once its verdict is no longer `waiting`."""
    job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None or job.status != "waiting":
        return []
    verdict = job_verdict(session, job)
    if verdict.state is StageState.WAITING:
        job.reason = verdict.reason
        return []
    move_job(session, job, "succeeded" if verdict.state is StageState.SUCCEEDED else "failed", verdict.reason)
    session.flush()
    return advance(session, job.run_id)


def needing_review(session: Session, run_id: int) -> list[Comparison]:
    reviewed = select(Review.comparison_id)
    return list(
        session.scalars(
            select(Comparison)
            .where(
                Comparison.run_id == run_id,
                Comparison.status.in_(["changed", "new", "missing", "size_mismatch"]),
                Comparison.id.not_in(reviewed),
            )
            .order_by(Comparison.id)
        )
    )
