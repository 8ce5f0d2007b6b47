"""The environment policy of a job's processes: a few basics inherited from the worker, the
pipeline's `env:` (top < platform < stage, as planned), the project's secrets, and Instep's own
INSTEP_* variables, which always win. Nothing else of the worker's environment leaks in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from orchestrator.stages.base import JobWork

# Environment a job inherits from the worker; everything else comes from instep.yml and secrets.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SHELL", "TERM")


def job_env(
    work: JobWork, workspace: Path, artifacts_dir: Path, worker_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The whole environment of the job's processes (`worker_env` defaults to this process's)."""
    inherited = os.environ if worker_env is None else worker_env
    env = {k: inherited[k] for k in INHERITED_ENV if k in inherited}
    env.setdefault("LANG", "C.UTF-8")
    env.update({k: str(v) for k, v in work.job.spec.env.items()})
    env.update(work.secrets)
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
    return env
