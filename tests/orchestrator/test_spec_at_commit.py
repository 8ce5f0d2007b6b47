"""One bounded way to read a commit's instep.yml (planning, release policies): a missing file is
None, an oversized one a file:line:col error with its size that is never read whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.pipeline import spec_at
from orchestrator.spec import SpecError
from orchestrator.spec.limits import MAX_FILE_BYTES
from orchestrator.workspaces import ensure_commit
from tests.conftest import Repo

PIPELINE = (
    "version: 1\nplatforms: {android: {}}\nstages:\n  unit: {run: make test}\nrelease: {approvals: {qa: 2}}\n"
)


def test_the_release_policy_file_is_read_bounded(tmp_path: Path, repo: Repo) -> None:
    good = repo.commit({"instep.yml": PIPELINE})
    huge = repo.commit({"instep.yml": PIPELINE + "#" * MAX_FILE_BYTES + "\n"})
    (repo.work / "instep.yml").unlink()
    missing = repo.commit({"README": "no pipeline here"})
    mirror = ensure_commit(tmp_path / "mirrors", 1, repo.url, missing)

    spec = spec_at(mirror, good)
    assert spec is not None and spec.release is not None and spec.release.approvals.get("qa") == 2
    assert spec_at(mirror, missing) is None
    with pytest.raises(SpecError) as refused:
        spec_at(mirror, huge)
    assert "instep.yml:1:1:" in str(refused.value) and f"{MAX_FILE_BYTES + len(PIPELINE) + 1:,}" in str(
        refused.value
    )
