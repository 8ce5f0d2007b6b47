"""A build job's output file as a finished attempt leaves it: its bytes in the artifact store and
its Artifact row (what the gate's candidate and the store adapters read)."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from orchestrator.artifacts import ArtifactStore
from orchestrator.db.models import Artifact, Job


def add_build_file(session: Session, store: ArtifactStore, job: Job, name: str, data: bytes) -> Artifact:
    """`name` is the file's path in the job's artifacts directory; the row is named `KEY/NAME`."""
    key = f"runs/{job.run_id}/jobs/{job.id}/attempt-1/files/{name}"
    store.put_bytes(key, data)
    artifact = Artifact(
        run_id=job.run_id,
        job_id=job.id,
        name=f"{job.key}/{name}",
        kind="file",
        store_key=key,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    session.add(artifact)
    return artifact
