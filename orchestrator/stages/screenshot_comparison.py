"""The screenshots stage's worker-side step: compare a run's captures with the branch baselines,
store candidate, diff and thumbnail images, and store the comparisons with the job's outcome.
The decisions come from `screenshots.stage` and `screenshots.review`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.artifacts import ArtifactStore
from orchestrator.baselines import SHARED_PLATFORM, BlobAdapter, branch_of, comparison_record
from orchestrator.db.models import Comparison, Job, Run
from orchestrator.stages.base import Attempt, Outcome
from screenshots.baselines import BaselineRepository
from screenshots.diff import Status
from screenshots.renditions import Renditions
from screenshots.review import StageVerdict, stage_verdict
from screenshots.rules import DiffSettings
from screenshots.stage import compare_run


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
        prepared.append(
            PreparedComparison(
                name=diff.name,
                status=diff.status.value,
                diff_pixels=diff.diff_pixels,
                width=diff.width,
                height=diff.height,
                details=diff.to_json(),
                baseline_version=item.baseline.version.version if item.baseline else None,
                baseline_key=baseline_key,
                candidate_key=candidate_key,
                diff_key=diff_key,
                thumbnail_key=thumbnail_key,
            )
        )
    records = [
        comparison_record(str(i), 0, 0, branch, project, plat, p.name, p.status, p.details)
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


def compare_screenshots(attempt: Attempt, results: dict[str, Any]) -> Outcome:
    """Compare the attempt's captures with the branch baselines; changes wait for QA review."""
    work, out = attempt.work, attempt.log
    branch = branch_of(work.ref, work.default_branch)
    prepared, verdict = compare_captures(
        attempt.ctx.store,
        project=work.project_name,
        platform=work.job.platform,
        branch=branch,
        default_branch=work.default_branch,
        captured=captured_screens(attempt.artifacts_dir),
    )
    for p in prepared:
        pixels = f" ({p.diff_pixels} px)" if p.diff_pixels else ""
        out.line(f"instep: screenshot {p.name}: {p.status}{pixels}")
    out.line(f"instep: screenshots on branch {branch}: {verdict.reason}")
    results = {**results, "screenshots": {"branch": branch, "verdict": verdict.state.value}}

    def finish_with(session: Session, job: Job, run: Run) -> None:
        store_comparisons(session, job, run, branch, work.job.platform, prepared)

    # The stage verdict's states (waiting, succeeded, failed) are job statuses as they are.
    return Outcome(verdict.state.value, verdict.reason, results=results, finish_with=finish_with)
