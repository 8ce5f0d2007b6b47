"""The artifact store as the screenshots package sees it: blobs under `screenshots/`, the branch
baseline repository, and a stored comparison read as a review record. Shared by the screenshots
stage's comparison (worker) and the review service (API)."""

from __future__ import annotations

from typing import Any

from orchestrator.artifacts import ArtifactError, ArtifactStore
from screenshots.baselines import BaselineKey, BaselineRepository, InvalidName
from screenshots.diff import Status
from screenshots.review import ComparisonRecord

SHARED_PLATFORM = "all"  # the platform part of baseline keys for stages that run once


class BlobAdapter:
    """The artifact store seen as the screenshots package's BlobStore, under `screenshots/`."""

    def __init__(self, store: ArtifactStore, prefix: str = "screenshots") -> None:
        self.store = store
        self.prefix = prefix

    def put(self, key: str, data: bytes) -> None:
        self.store.put_bytes(f"{self.prefix}/{key}", data)

    def get(self, key: str) -> bytes:
        try:
            return self.store.get(f"{self.prefix}/{key}")
        except ArtifactError as exc:
            raise KeyError(key) from exc

    def exists(self, key: str) -> bool:
        return self.store.exists(f"{self.prefix}/{key}")


def branch_of(ref: str, default_branch: str) -> str:
    """Baselines live per branch; a tag compares against the default branch."""
    return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else default_branch


def repository(store: ArtifactStore, default_branch: str) -> BaselineRepository:
    return BaselineRepository(BlobAdapter(store), default_branch=default_branch)


def comparison_record(
    cid: str,
    run_id: int,
    run_number: int,
    branch: str,
    project: str,
    platform: str,
    name: str,
    status: str,
    details: dict[str, Any],
) -> ComparisonRecord:
    """A comparison as the pure review rules see it (an unparseable name gets an `invalid` key)."""
    try:
        key = BaselineKey.from_artifact_name(project, platform, name)
    except InvalidName:
        key = BaselineKey(project, platform, "invalid", "invalid", "invalid")
    return ComparisonRecord(
        id=cid,
        run_id=str(run_id),
        run_number=run_number,
        branch=branch,
        key=key,
        status=Status(status),
        error=details.get("error"),
    )
