"""What a job attempt leaves behind, uploaded to the artifact store: every file in its artifacts
directory and then its log. Names are made safe keys (a backslash, `%`, control characters and
bytes that are not UTF-8 are percent-encoded), and one file that cannot be stored is reported in
the job's log instead of stopping the other uploads or losing the log."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from orchestrator.artifacts import ArtifactStore
from orchestrator.db.models import Artifact
from orchestrator.stages.base import JobWork

log = logging.getLogger(__name__)

MAX_COLLECTED_ARTIFACTS = 500
# Artifact names are stored in a 500-character column together with the job key.
MAX_NAME_CHARS = 400
LOG_CONTENT_TYPE = "text/plain; charset=utf-8"


def safe_name(relative: bytes) -> str:
    """A relative path's bytes as an artifact name: UTF-8 text kept as it is; `%`, `\\`, control
    characters and bytes that are not UTF-8 percent-encoded (`a\\b.txt` -> `a%5Cb.txt`)."""
    out = []
    for ch in relative.decode("utf-8", "surrogateescape"):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as surrogateescape carries it
            out.append(f"%{code - 0xDC00:02X}")
        elif ch in "%\\" or code < 0x20 or code == 0x7F:
            out.append(f"%{code:02X}")
        else:
            out.append(ch)
    return "".join(out)


def _prefix(work: JobWork) -> str:
    return f"runs/{work.run_id}/jobs/{work.job_id}/attempt-{work.attempt}"


def _row(work: JobWork, key: str, name: str, kind: str, size: int, sha: str, content_type: str) -> Artifact:
    return Artifact(
        run_id=work.run_id,
        job_id=work.job_id,
        name=f"{work.job.key}/{name}",
        kind=kind,
        store_key=key,
        size=size,
        sha256=sha,
        content_type=content_type,
    )


def store_files(
    store: ArtifactStore, work: JobWork, artifacts_dir: Path, report: Callable[[str], None]
) -> list[Artifact]:
    """Upload the files under `artifacts_dir` (not following symlinks); each file that cannot be
    stored is reported (`report`, e.g. the job log) and skipped."""
    files = sorted(p for p in artifacts_dir.rglob("*") if p.is_file() and not p.is_symlink())
    if len(files) > MAX_COLLECTED_ARTIFACTS:
        report(
            f"instep: {len(files)} files in the artifacts directory; storing the first {MAX_COLLECTED_ARTIFACTS}"
        )
    rows: list[Artifact] = []
    for path in files[:MAX_COLLECTED_ARTIFACTS]:
        name = safe_name(os.fsencode(path.relative_to(artifacts_dir)))
        if len(name) > MAX_NAME_CHARS:
            report(
                f"instep: artifact {name[:80]}... not stored: its name is longer than {MAX_NAME_CHARS} characters"
            )
            continue
        key = f"{_prefix(work)}/files/{name}"
        content_type = "image/png" if name.endswith(".png") else "application/octet-stream"
        try:
            size, sha = store.put_file(key, path)
        except Exception as exc:  # any store's failure: reported in the job log, the rest continues
            log.warning("job %s: artifact %s not stored", work.job_id, name, exc_info=True)
            report(f"instep: artifact {name} not stored: {type(exc).__name__}: {exc}")
            continue
        rows.append(_row(work, key, name, "file", size, sha, content_type))
    return rows


def store_log(store: ArtifactStore, work: JobWork, log_path: Path) -> Artifact:
    """Upload the attempt's log; the store's error propagates (the caller says so in the reason)."""
    key = f"{_prefix(work)}/log.txt"
    size, sha = store.put_file(key, log_path)
    return _row(work, key, "log.txt", "log", size, sha, LOG_CONTENT_TYPE)
