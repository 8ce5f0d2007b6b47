"""The screenshot stage of a run: compare what the run captured with the branch's baselines.

The orchestrator calls `compare_run` from the job, stores one comparison per returned item, and
asks `review.stage_verdict` for the stage's state as reviews arrive."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from screenshots.baselines import BaselineKey, BaselineRepository, InvalidName, ResolvedBaseline
from screenshots.diff import ScreenDiff, Status, compare_screens
from screenshots.rules import DiffSettings


@dataclass(frozen=True)
class RunComparison:
    """One screen of a run: the key, the outcome, the baseline used and the candidate's hash."""

    key: BaselineKey | None  # None when the captured name itself is invalid
    diff: ScreenDiff
    baseline: ResolvedBaseline | None
    candidate_sha256: str | None


def compare_run(
    baselines: BaselineRepository,
    *,
    project: str,
    platform: str,
    branch: str,
    captured: Mapping[str, bytes],
    settings: DiffSettings,
    diff_images: bool = False,
) -> list[RunComparison]:
    """Compare captured PNGs (named '<device-profile>/<locale>/<screen>.png') with the branch's
    baselines; baselines nobody captured come back as `missing`. On a branch without baselines
    every screen is `new`."""
    known = baselines.baseline_set(project, platform, branch)
    results = []
    for name in sorted(captured.keys() | known.keys()):
        try:
            key = BaselineKey.from_artifact_name(project, platform, name)
        except InvalidName as exc:
            results.append(RunComparison(None, ScreenDiff(name, Status.ERROR, error=str(exc)), None, None))
            continue
        resolved = known.get(name)
        baseline_png = baselines.image(project, resolved.version) if resolved else None
        candidate = captured.get(name)
        diff = compare_screens(
            name, baseline_png, candidate, settings.for_screen(name), diff_image=diff_images
        )
        sha = hashlib.sha256(candidate).hexdigest() if candidate is not None else None
        results.append(RunComparison(key, diff, resolved, sha))
    return results
