"""Comparing two folders of screenshots: pair the PNGs by relative path, compare each pair (on
every core when there is enough work), write diff images for changed screens."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from screenshots.diff import ScreenDiff, Status, compare_screens
from screenshots.rules import DiffSettings

# Below this many pairs to decode, a process pool costs more than it saves.
_POOL_MIN_PAIRS = 3


@dataclass(frozen=True)
class FolderDiff:
    """Every screen's outcome, sorted by name, plus problems with the folders themselves."""

    comparisons: tuple[ScreenDiff, ...]
    problems: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """2 on bad input, 1 when any screen is not unchanged, else 0."""
        if self.problems or any(c.status is Status.ERROR for c in self.comparisons):
            return 2
        return 0 if all(c.status is Status.UNCHANGED for c in self.comparisons) else 1


def list_pngs(root: Path) -> dict[str, Path]:
    """PNG files under root (any depth) keyed by their relative POSIX path."""
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.suffix.lower() == ".png" and path.is_file()
    }


def diff_folders(
    baseline_dir: Path,
    candidate_dir: Path,
    settings: DiffSettings,
    *,
    out_dir: Path | None = None,
    workers: int | None = None,
) -> FolderDiff:
    """Compare same-named PNGs of two folders; diff images go to out_dir under the same names."""
    problems = [
        f"{label} folder {folder} {why}"
        for label, folder in (("baseline", baseline_dir), ("candidate", candidate_dir))
        if (why := _folder_problem(folder))
    ]
    if problems:
        return FolderDiff((), tuple(problems))
    baselines, candidates = list_pngs(baseline_dir), list_pngs(candidate_dir)
    for label, folder, found in (
        ("baseline", baseline_dir, baselines),
        ("candidate", candidate_dir, candidates),
    ):
        if not found:
            problems.append(
                f"{label} folder {folder} contains no .png files; check the path or the capture step"
            )
    if problems:
        return FolderDiff((), tuple(problems))
    tasks = [
        _Task(name, baselines.get(name), candidates.get(name), settings, out_dir)
        for name in sorted(baselines.keys() | candidates.keys())
    ]
    paired = sum(1 for t in tasks if t.baseline and t.candidate)
    workers = workers or _cpu_count()
    if workers > 1 and paired >= _POOL_MIN_PAIRS:
        # Largest work first would need decoding to know; pairs are similar, so keep name order.
        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        with ProcessPoolExecutor(max_workers=min(workers, paired), mp_context=context) as pool:
            results: Iterable[ScreenDiff] = list(pool.map(_run, tasks, chunksize=1))
    else:
        results = [_run(task) for task in tasks]
    return FolderDiff(tuple(results))


@dataclass(frozen=True)
class _Task:
    name: str
    baseline: Path | None
    candidate: Path | None
    settings: DiffSettings
    out_dir: Path | None


def _run(task: _Task) -> ScreenDiff:
    """Worker: read both files, compare, write the diff image; returns no pixel data."""
    try:
        baseline = task.baseline.read_bytes() if task.baseline else None
        candidate = task.candidate.read_bytes() if task.candidate else None
    except OSError as exc:
        return ScreenDiff(
            task.name, Status.ERROR, error=f"{task.name}: cannot read ({exc.strerror}): {exc.filename}"
        )
    result = compare_screens(
        task.name,
        baseline,
        candidate,
        task.settings.for_screen(task.name),
        diff_image=task.out_dir is not None,
    )
    if result.diff_png is not None and task.out_dir is not None:
        target = task.out_dir / task.name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(result.diff_png)
        except OSError as exc:
            return replace(
                result, diff_png=None, status=Status.ERROR, error=f"cannot write diff image {target}: {exc}"
            )
    return replace(result, diff_png=None)


def _folder_problem(folder: Path) -> str | None:
    if not folder.exists():
        return "does not exist"
    if not folder.is_dir():
        return "is not a folder"
    return None


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
