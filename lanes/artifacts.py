"""What a lane produced: files it wrote into `INSTEP_ARTIFACTS_DIR`, and the well-known outputs of
gym, gradle, scan and snapshot found in the workspace by a bounded walk."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Directories that never hold a lane's outputs but can hold very many files.
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "Pods", ".gradle", ".bundle", "vendor", ".venv"}
)
MAX_DEPTH = 8
MAX_ENTRIES_VISITED = 50_000
MAX_ARTIFACTS = 500
# run_lane marks every artifacts directory it fills, so a later lane in the same workspace does
# not collect an earlier lane's artifacts as its own outputs.
MARKER = ".instep-artifacts"
# Copies into the artifacts directory land under this folder, keeping their workspace path.
WORKSPACE_FOLDER = "workspace"


@dataclass(frozen=True)
class Artifact:
    """A file the lane produced. `path` is inside the artifacts directory; `origin` is where the
    lane wrote it when it was collected from the workspace (None if the lane wrote it there)."""

    path: Path
    kind: str
    size: int
    origin: Path | None = None


def artifact_kind(relpath: str) -> str | None:
    """Classify a file by its workspace-relative path: ipa, apk, aab, dsym, mapping, junit,
    screenshot — or None when it is not a known lane output."""
    path = PurePosixPath(relpath)
    name = path.name.lower()
    parts = {part.lower() for part in path.parts[:-1]}
    if name.endswith(".ipa"):
        return "ipa"
    if name.endswith(".apk"):
        return "apk"
    if name.endswith(".aab"):
        return "aab"
    if name.endswith(".dsym.zip"):
        return "dsym"
    if name == "mapping.txt":
        return "mapping"
    if name.endswith(".junit") or (
        name.endswith(".xml")
        and (name.startswith(("test-", "junit")) or "test-results" in parts or "test_output" in parts)
    ):
        return "junit"
    if name.endswith(".png") and "screenshots" in parts:
        return "screenshot"
    return None


def _walk(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Regular files under `root`, depth- and count-bounded, not following symlinks."""
    stack: list[tuple[Path, int]] = [(root, 0)]
    visited = 0
    while stack:
        directory, depth = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in sorted(entries, key=lambda e: e.name):
            visited += 1
            if visited > MAX_ENTRIES_VISITED:
                return
            if entry.is_dir(follow_symlinks=False):
                if (
                    depth + 1 < MAX_DEPTH
                    and entry.name not in SKIP_DIRS
                    and not os.path.exists(os.path.join(entry.path, MARKER))
                ):
                    stack.append((Path(entry.path), depth + 1))
            elif entry.is_file(follow_symlinks=False):
                yield Path(entry.path), entry.stat(follow_symlinks=False)


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def mark_artifacts_dir(artifacts_dir: Path) -> None:
    """Create `artifacts_dir` with the marker that keeps workspace walks out of it."""
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    (artifacts_dir / MARKER).touch()


def collect_artifacts(
    workspace: Path,
    artifacts_dir: Path,
    *,
    since: float,
    exclude: tuple[Path, ...] = (),
) -> list[Artifact]:
    """Everything in `artifacts_dir`, plus known outputs in `workspace` modified at or after `since`
    (epoch seconds) which are linked or copied into `artifacts_dir/workspace/<relpath>` so that
    whoever uploads the artifacts directory uploads them too."""
    artifacts_dir = artifacts_dir.resolve()
    workspace = workspace.resolve()
    mark_artifacts_dir(artifacts_dir)
    excluded = {p.resolve() for p in exclude}
    found: list[Artifact] = []
    if workspace != artifacts_dir:
        for path, stat in _walk(workspace):
            if len(found) >= MAX_ARTIFACTS:
                break
            if path.is_relative_to(artifacts_dir) or path in excluded or stat.st_mtime < since:
                continue
            rel = path.relative_to(workspace).as_posix()
            kind = artifact_kind(rel)
            if kind is None:
                continue
            target = artifacts_dir / WORKSPACE_FOLDER / rel
            _link_or_copy(path, target)
            found.append(Artifact(path=target, kind=kind, size=stat.st_size, origin=path))
    copied = {a.path for a in found}
    for path, stat in _walk(artifacts_dir):
        if len(found) >= MAX_ARTIFACTS:
            break
        if path in copied or path in excluded or path.name == MARKER:
            continue
        kind = artifact_kind(path.relative_to(artifacts_dir).as_posix()) or "file"
        found.append(Artifact(path=path, kind=kind, size=stat.st_size))
    return sorted(found, key=lambda a: str(a.path))
