"""The sandbox a job's processes run in: bubblewrap with the job's own folders writable and
Instep's home — the database, the secret key, git mirrors, other jobs' workspaces — hidden.

Decided once per worker process (`require_job_sandbox`): a worker without bubblewrap refuses
jobs unless INSTEP_UNSANDBOXED_JOBS=1 says to run them unsandboxed."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from orchestrator.settings import Settings
from toolrun.sandbox import Sandbox, SandboxUnavailable, require_sandbox

__all__ = ["SandboxUnavailable", "job_sandbox", "require_job_sandbox", "sandbox_env"]


@functools.lru_cache(maxsize=4)
def _bwrap(allow_unsandboxed: bool) -> str | None:
    return require_sandbox(allow_unsandboxed)


def require_job_sandbox(settings: Settings) -> str | None:
    """The bwrap jobs run under, None when unsandboxed jobs are allowed and there is none;
    raises SandboxUnavailable with the fix otherwise (checked when a worker starts)."""
    return _bwrap(settings.unsandboxed_jobs)


def _hidden(settings: Settings) -> tuple[Path, ...]:
    hidden = [settings.home]
    if settings.database_url.startswith("sqlite:///"):
        database = Path(settings.database_url.removeprefix("sqlite:///")).resolve()
        if not database.is_relative_to(settings.home):
            hidden.append(database.parent)
    artifacts = Path(settings.artifacts)
    if "://" not in settings.artifacts and not artifacts.resolve().is_relative_to(settings.home):
        hidden.append(artifacts.resolve())
    return tuple(hidden)


def _visible_under_tmp() -> tuple[Path, ...]:
    """What the job runs with that lives under /tmp (hidden by its private /tmp otherwise): this
    Python environment, Instep's own checkout (its tools/), and the folders on PATH."""
    import orchestrator

    tmp = Path("/tmp")
    candidates = [Path(sys.prefix), Path(orchestrator.__file__).resolve().parents[1]]
    candidates += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    under = sorted({c.resolve() for c in candidates if c.is_absolute() and c.resolve().is_relative_to(tmp)})
    kept: list[Path] = []
    for path in under:  # a folder inside one already kept is visible with it
        if path != tmp and not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return tuple(kept)


def job_sandbox(settings: Settings, job_dir: Path, workspace: Path, artifacts_dir: Path) -> Sandbox | None:
    """The sandbox for one job attempt (None when running unsandboxed was allowed)."""
    bwrap = require_job_sandbox(settings)
    if bwrap is None:
        return None
    home = job_dir / "home"
    home.mkdir(parents=True, exist_ok=True)
    writable = (workspace, artifacts_dir, home, *(p for p in settings.sandbox_writable if p.exists()))
    return Sandbox(bwrap, writable=writable, hidden=_hidden(settings), visible=_visible_under_tmp())


def sandbox_env(env: dict[str, str], sandbox: Sandbox | None, job_dir: Path) -> dict[str, str]:
    """Inside the sandbox HOME is the job's own (the worker's is read-only there) and /tmp is private."""
    if sandbox is None:
        return env
    return {**env, "HOME": str(job_dir / "home"), "TMPDIR": "/tmp"}
