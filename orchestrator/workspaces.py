"""Git workspaces on a worker: one cached mirror per project, a fresh checkout per job.

Instep clones only from the URL registered for the project, never from a webhook payload. A URL
with credentials (`https://x-access-token:TOKEN@host/o/r.git`) is cloned with them, but git is
given the URL without them and the credentials in its environment (`clone_urls`), so they are
neither on a command line nor in the mirror's config, and every message shows the URL redacted."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.clone_urls import git_credential_config, public_url, redacted_url, scrub

GIT_TIMEOUT_SECONDS = 600


class WorkspaceError(Exception):
    """Git could not provide the commit; the message names the URL and git's own words."""


def _git(
    args: list[str], cwd: Path | None = None, timeout: float = GIT_TIMEOUT_SECONDS, remote: str | None = None
) -> str:
    """Run git; `remote` is the clone URL (with its credentials) this command talks to."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=_env(remote),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise WorkspaceError(f"git {args[0]} timed out after {timeout:.0f} s") from exc
    if proc.returncode != 0:
        stderr = scrub(proc.stderr, remote) if remote else proc.stderr
        raise WorkspaceError(f"git {' '.join(args[:2])} failed: {stderr.strip()[-2000:]}")
    return proc.stdout


def _env(remote: str | None = None) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
        **(git_credential_config(remote) if remote else {}),
    }


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_commit(mirrors_dir: Path, project_id: int, repo_url: str, sha: str) -> Path:
    """Return the project's mirror, fetched so that it holds `sha`. `repo_url` is the clone URL
    with its credentials, if any (`projects.clone_url`)."""
    mirror = mirrors_dir / f"project-{project_id}.git"
    with _locked(mirrors_dir / f"project-{project_id}.lock"):
        if not (mirror / "HEAD").exists():
            if mirror.exists():
                shutil.rmtree(mirror)
            _git(["clone", "--mirror", "--quiet", "--", public_url(repo_url), str(mirror)], remote=repo_url)
        else:
            _git(["remote", "set-url", "origin", public_url(repo_url)], cwd=mirror)
            if not _has_commit(mirror, sha):
                _git(["fetch", "--prune", "--quiet", "origin"], cwd=mirror, remote=repo_url)
        if not _has_commit(mirror, sha):
            raise WorkspaceError(f"commit {sha} is not in {redacted_url(repo_url)} (fetched just now)")
    return mirror


def _has_commit(mirror: Path, sha: str) -> bool:
    try:
        _git(["cat-file", "-e", f"{sha}^{{commit}}"], cwd=mirror)
    except WorkspaceError:
        return False
    return True


def resolve_ref(mirror: Path, ref: str) -> str:
    """The commit a ref points at in the mirror (used by manual triggers without a SHA)."""
    return _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=mirror).strip()


MAX_MESSAGE = 4000  # characters of a commit message kept with its run


def commit_message(mirror: Path, sha: str) -> str | None:
    """The commit's message (at most MAX_MESSAGE characters), or None when git cannot say."""
    try:
        text = _git(["log", "-1", "--format=%B", sha, "--"], cwd=mirror)
    except WorkspaceError:
        return None
    return text.strip()[:MAX_MESSAGE] or None


def fetch_ref(mirrors_dir: Path, project_id: int, repo_url: str, ref: str) -> str:
    """Fetch the mirror and return the SHA of `ref` (branch name, tag or full ref)."""
    mirror = mirrors_dir / f"project-{project_id}.git"
    with _locked(mirrors_dir / f"project-{project_id}.lock"):
        if not (mirror / "HEAD").exists():
            _git(["clone", "--mirror", "--quiet", "--", public_url(repo_url), str(mirror)], remote=repo_url)
        else:
            _git(["remote", "set-url", "origin", public_url(repo_url)], cwd=mirror)
            _git(["fetch", "--prune", "--quiet", "origin"], cwd=mirror, remote=repo_url)
        for candidate in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}"):
            try:
                return resolve_ref(mirror, candidate)
            except WorkspaceError:
                continue
    raise WorkspaceError(f"ref {ref!r} does not exist in {redacted_url(repo_url)}")


def read_file_at(mirror: Path, sha: str, path: str) -> str | None:
    """A file's text at a commit, or None when the commit has no such file."""
    try:
        return _git(["show", f"{sha}:{path}"], cwd=mirror)
    except WorkspaceError:
        return None


class FileTooLarge(WorkspaceError):
    """A file at a commit is larger than the caller reads; `size` is its size in bytes."""

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(f"{path} is {size:,} bytes (at most {limit:,} are read)")
        self.size = size


def read_bytes_at(mirror: Path, sha: str, path: str, limit: int) -> bytes | None:
    """A file's bytes at a commit, or None when the commit has no such file; FileTooLarge when it
    holds more than `limit` bytes (its size is asked first, so nothing large is read)."""
    try:
        size = int(_git(["cat-file", "-s", f"{sha}:{path}"], cwd=mirror))
    except (WorkspaceError, ValueError):
        return None
    if size > limit:
        raise FileTooLarge(path, size, limit)
    try:
        proc = subprocess.run(
            ["git", "cat-file", "blob", f"{sha}:{path}"],
            cwd=mirror,
            env=_env(),
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise WorkspaceError(f"git cat-file timed out after {GIT_TIMEOUT_SECONDS} s") from exc
    return proc.stdout if proc.returncode == 0 else None  # e.g. `path` is a directory


def checkout(mirror: Path, sha: str, dest: Path) -> Path:
    """A fresh working tree of `sha` at `dest` (replacing anything there)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _git(["clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(dest)])
    _git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha], cwd=dest)
    return dest
