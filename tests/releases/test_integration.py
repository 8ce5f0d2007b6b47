"""Releases end to end against a real `instep serve` (embedded: uvicorn, in-process worker,
SQLite) on a real git repository: the gate waits with no worker held, 50 parallel approvals
release `submit` exactly once, and a server restart while the gate waits loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import Repo
from tests.integration.harness import Instep, wait_for

pytestmark = pytest.mark.integration

PIPELINE = """\
version: 1
platforms: {android: {}}
stages:
  build:
    run: |
      mkdir -p "$INSTEP_ARTIFACTS_DIR"
      echo "bundle for $INSTEP_PLATFORM" > "$INSTEP_ARTIFACTS_DIR/app-$INSTEP_PLATFORM.txt"
  gate: {needs: [build]}
  submit:
    needs: [gate]
    run: echo "submitting $INSTEP_RELEASE_VERSION build $INSTEP_BUILD_NUMBER on $INSTEP_PLATFORM"
release:
  approvals: {qa: 1, release_manager: 1}
  four_eyes: true
"""


@pytest.fixture
def instep(tmp_path: Path) -> Iterator[Instep]:
    server = Instep(tmp_path / "home")
    server.serve()
    try:
        yield server
    finally:
        server.stop()


def token(instep: Instep, role: str, name: str) -> dict[str, str]:
    clear = instep.cli_json("token", "create", "--role", role, "--name", name)["token"]
    return {"Authorization": f"Bearer {clear}"}


def run_at_gate(instep: Instep, repo: Repo, pipeline: str = PIPELINE) -> int:
    repo.commit({"instep.yml": pipeline}, "release pipeline")
    instep.cli_json("project", "add", "shop", "--repo", repo.url)
    run_id = instep.cli_json("run", "trigger", "--project", "shop", "--ref", "main")["id"]
    gate = wait_for(
        "the gate job to wait",
        lambda: next(
            (j for j in instep.run(run_id)["jobs"] if j["key"] == "gate" and j["status"] == "waiting"), None
        ),
        timeout=120,
    )
    assert "release cut: no release has been cut" in gate["reason"]
    assert instep.run(run_id)["status"] == "waiting"
    return run_id


def submit_job(instep: Instep, run_id: int) -> dict:
    return next(j for j in instep.run(run_id)["jobs"] if j["key"] == "submit:android")


def test_fifty_parallel_approvals_release_the_submission_once(instep: Instep, repo: Repo) -> None:
    run_id = run_at_gate(instep, repo)
    cutter = token(instep, "release_manager", "bob")
    with httpx.Client(base_url=instep.url, timeout=60) as http:
        r = http.post(
            "/api/releases", json={"project": "shop", "run_id": run_id, "version": "1.0.0"}, headers=cutter
        )
        assert r.status_code == 201, r.text
        release_id = r.json()["id"]
        assert r.json()["platforms"][0]["build_number"] == 1
        assert (
            http.post(
                f"/api/releases/{release_id}/approve", json={}, headers=token(instep, "qa", "quinn")
            ).status_code
            == 200
        )
        managers = [token(instep, "release_manager", f"rm{i}") for i in range(5)]

        def approve(i: int) -> int:
            with httpx.Client(base_url=instep.url, timeout=60) as c:
                return c.post(
                    f"/api/releases/{release_id}/approve", json={}, headers=managers[i % 5]
                ).status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(approve, range(50)))
        assert set(statuses) <= {200, 409} and 200 in statuses, statuses
        run = instep.wait_run(run_id, timeout=120)
        assert run["status"] == "succeeded", run
        submit = submit_job(instep, run_id)
        assert submit["status"] == "succeeded" and submit["attempts"] == 1
        log = http.get(f"/api/jobs/{submit['id']}/log", headers=cutter).text
        assert log.count("submitting 1.0.0 build 1 on android") == 1
        trail = http.get(f"/api/releases/{release_id}/audit", headers=cutter).json()
        assert [e["action"] for e in trail].count("gate_passed") == 1
        assert [e["action"] for e in trail].count("submitting") == 1
        shown = http.get(f"/api/releases/{release_id}", headers=cutter).json()
        assert shown["platforms"][0]["state"] == "submitted"


def test_a_restart_while_the_gate_waits_loses_nothing(instep: Instep, repo: Repo) -> None:
    run_id = run_at_gate(instep, repo)
    with httpx.Client(base_url=instep.url, timeout=60) as http:
        r = http.post(
            "/api/releases",
            json={"project": "shop", "run_id": run_id, "version": "1.0.0"},
            headers=token(instep, "release_manager", "bob"),
        )
        release_id = r.json()["id"]
        assert (
            http.post(
                f"/api/releases/{release_id}/approve", json={}, headers=token(instep, "qa", "quinn")
            ).status_code
            == 200
        )
    instep.stop()
    instep.serve()
    gate = next(j for j in instep.run(run_id)["jobs"] if j["key"] == "gate")
    assert gate["status"] == "waiting" and "release-manager approval" in gate["reason"]
    with httpx.Client(base_url=instep.url, timeout=60) as http:
        shown = http.get(f"/api/releases/{release_id}", headers=token(instep, "developer", "viewer")).json()
        assert [(a["person"], a["role"]) for a in shown["approvals"]] == [("quinn", "qa")]
        checks = {c["check"]: c["state"] for c in shown["platforms"][0]["checklist"]}
        assert checks["qa_signoff"] == "passed" and checks["release_manager_approval"] == "pending"
        r = http.post(
            f"/api/releases/{release_id}/approve", json={}, headers=token(instep, "release_manager", "ana")
        )
        assert r.status_code == 200
    assert instep.wait_run(run_id, timeout=120)["status"] == "succeeded"


def test_a_submission_lane_killed_at_its_time_limit_leaves_the_outcome_unknown(
    instep: Instep, repo: Repo
) -> None:
    """It may have uploaded before it was killed: it is not called failed (which would invite a
    second submission), not run again by the retry, and waits for a release manager to settle."""
    slow = PIPELINE.replace(
        'run: echo "submitting $INSTEP_RELEASE_VERSION build $INSTEP_BUILD_NUMBER on $INSTEP_PLATFORM"',
        'run: echo "uploading $INSTEP_RELEASE_VERSION" && sleep 60\n    timeout: 2s',
    )
    run_id = run_at_gate(instep, repo, slow)
    rm = token(instep, "release_manager", "bob")
    with httpx.Client(base_url=instep.url, timeout=60) as http:
        release_id = http.post(
            "/api/releases", json={"project": "shop", "run_id": run_id, "version": "1.0.0"}, headers=rm
        ).json()["id"]
        for who in (token(instep, "qa", "quinn"), token(instep, "release_manager", "ana")):
            assert http.post(f"/api/releases/{release_id}/approve", json={}, headers=who).status_code == 200
        run = instep.wait_run(run_id, timeout=120)
        submit = submit_job(instep, run_id)
        assert run["status"] == "failed" and submit["status"] == "failed", submit
        log = http.get(f"/api/jobs/{submit['id']}/log", headers=rm).text
        assert log.count("uploading 1.0.0") == 1, "the lane ran once; the retries held"
        shown = http.get(f"/api/releases/{release_id}", headers=rm).json()
        android = shown["platforms"][0]
        assert android["state"] == "submitting" and "outcome is unknown" in android["reason"], android
        action = next(a for a in shown["store_actions"] if a["platform"] == "android")
        assert action["state"] == "unknown" and "timed out after 2 s" in action["reason"], action
        settled = http.post(
            f"/api/releases/{release_id}/submissions/android/settle",
            json={"outcome": "failed", "comment": "nothing reached the store"},
            headers=rm,
        )
        assert settled.status_code == 200, settled.text
        assert http.get(f"/api/releases/{release_id}", headers=rm).json()["platforms"][0]["state"] == "failed"
