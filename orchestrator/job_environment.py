"""The environment policy of a job's processes: a few basics inherited from the worker, the
pipeline's `env:` (top < platform < stage, as planned), the project's secrets, and Instep's own
INSTEP_* variables, which always win. Nothing else of the worker's environment leaks in.

Store credentials (`STORE_CREDENTIALS`) are the exception among secrets: no job gets them from
`job_env`. Only a `submit` job of a release cut from a protected ref gets them, added by the
submit stage through `store_credentials` (rule: `release_may_use_store_credentials`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from pathlib import Path

from orchestrator.stages.base import JobWork

# Environment a job inherits from the worker; everything else comes from instep.yml and secrets.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SHELL", "TERM")


# Project secrets that reach a store: Google Play's service account, App Store Connect's API key.
STORE_CREDENTIALS = frozenset({"PLAY_SERVICE_ACCOUNT_JSON", "ASC_KEY_ID", "ASC_ISSUER_ID", "ASC_PRIVATE_KEY"})


def protected_refs(
    default_branch: str, protected: Iterable[str], from_tags: Iterable[str]
) -> tuple[str, ...]:
    """The ref patterns whose releases may use store credentials: `release.protected_refs`, or
    by default the project's default branch and the tags `release.from_tags` cuts releases for."""
    named = tuple(protected)
    if named:
        return named
    return (f"refs/heads/{default_branch}", *(f"refs/tags/{glob}" for glob in from_tags))


def release_may_use_store_credentials(ref: str, patterns: Iterable[str]) -> bool:
    """Whether a release cut from `ref` gets the store credentials (exact ref or glob match)."""
    return any(ref == p or fnmatchcase(ref, p) for p in patterns)


def store_credentials(secrets: Mapping[str, str]) -> dict[str, str]:
    """The store credentials among a project's secrets."""
    return {k: v for k, v in secrets.items() if k in STORE_CREDENTIALS}


def job_env(
    work: JobWork, workspace: Path, artifacts_dir: Path, worker_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The whole environment of the job's processes (`worker_env` defaults to this process's)."""
    inherited = os.environ if worker_env is None else worker_env
    env = {k: inherited[k] for k in INHERITED_ENV if k in inherited}
    env.setdefault("LANG", "C.UTF-8")
    env.update({k: str(v) for k, v in work.job.spec.env.items()})
    env.update({k: v for k, v in work.secrets.items() if k not in STORE_CREDENTIALS})
    env.update(
        {
            "CI": "true",
            "INSTEP": "1",
            "INSTEP_PROJECT": work.project_name,
            "INSTEP_RUN_ID": str(work.run_id),
            "INSTEP_RUN_NUMBER": str(work.run_number),
            "INSTEP_JOB_ID": str(work.job_id),
            "INSTEP_JOB_KEY": work.job.key,
            "INSTEP_ATTEMPT": str(work.attempt),
            "INSTEP_COMMIT": work.sha,
            "INSTEP_REF": work.ref,
            "INSTEP_WORKSPACE": str(workspace),
            "INSTEP_ARTIFACTS_DIR": str(artifacts_dir),
        }
    )
    if work.job.platform:
        env["INSTEP_PLATFORM"] = work.job.platform
    if work.job.spec.build_number is not None:  # a release pipeline's build (also for `run:` steps)
        env["INSTEP_BUILD_NUMBER"] = str(work.job.spec.build_number)
    return env
