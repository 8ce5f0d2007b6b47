"""End to end in embedded mode: `instep serve` as a real process (uvicorn, in-process Celery
worker on the memory transport, SQLite), a real git repository, real webhooks and the CLI."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orchestrator.webhooks import sign
from tests.conftest import Repo, processes_with_env
from tests.integration.harness import Instep, wait_for

pytestmark = pytest.mark.integration

PIPELINE = """\
version: 1
triggers:
  branches: ["main", "release/*"]
platforms:
  android: {}
  ios: {}
stages:
  unit:
    run: |
      echo "unit tests on $INSTEP_PLATFORM"
      echo "api key is $SHOP_API_KEY"
  build:
    needs: [unit]
    run: |
      mkdir -p "$INSTEP_ARTIFACTS_DIR"
      echo "bundle for $INSTEP_PLATFORM" > "$INSTEP_ARTIFACTS_DIR/app-$INSTEP_PLATFORM.txt"
      echo built
"""


@pytest.fixture
def instep(tmp_path: Path) -> Iterator[Instep]:
    server = Instep(tmp_path / "home")
    server.serve()
    try:
        yield server
    finally:
        server.stop()


def _register(instep: Instep, repo: Repo) -> str:
    data = instep.cli_json(
        "project", "add", "shop", "--repo", repo.url, "--secret", "SHOP_API_KEY=s3cr3t-api-key"
    )
    assert data["match"] == "acme/shop"
    return data["webhook_secret"]


def _github_push(
    instep: Instep,
    secret: str,
    sha: str,
    ref: str = "refs/heads/main",
    delivery: str | None = None,
    before: str = "0" * 40,
) -> httpx.Response:
    body = json.dumps(
        {
            "ref": ref,
            "before": before,
            "after": sha,
            "deleted": False,
            "repository": {"full_name": "acme/shop", "clone_url": "https://evil.example/attacker.git"},
            "pusher": {"name": "dev"},
            "head_commit": {"message": "change"},
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret, body),
    }
    return httpx.post(f"{instep.url}/api/webhooks/github", content=body, headers=headers, timeout=10)


def test_a_push_webhook_becomes_a_finished_run_with_logs_and_artifacts(instep: Instep, repo: Repo) -> None:
    secret = _register(instep, repo)
    sha = repo.commit({"instep.yml": PIPELINE}, "add pipeline")
    r = _github_push(instep, secret, sha, delivery="delivery-1")
    assert r.status_code == 201, r.text
    run_id = r.json()["run_id"]
    again = _github_push(instep, secret, sha, delivery="delivery-1")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"

    run = instep.wait_run(run_id)
    assert run["status"] == "succeeded", run
    assert sorted(j["key"] for j in run["jobs"]) == ["build:android", "build:ios", "unit:android", "unit:ios"]
    assert all(j["status"] == "succeeded" for j in run["jobs"])

    unit = next(j for j in run["jobs"] if j["key"] == "unit:android")
    with instep.api() as api:
        log = api.get(f"/api/jobs/{unit['id']}/log").text
        assert "unit tests on android" in log
        assert "api key is ***" in log and "s3cr3t-api-key" not in log
        names = {a["name"]: a for a in run["artifacts"]}
        assert "build:ios/app-ios.txt" in names and "unit:android/log.txt" in names
        body = api.get(f"/api/artifacts/{names['build:ios/app-ios.txt']['id']}").content
        assert body == b"bundle for ios\n"

    shown = instep.cli("run", "show", str(run_id)).stdout
    assert "succeeded" in shown and "build:android" in shown
    assert "commit: add pipeline" in shown
    logs = instep.cli("run", "logs", str(run_id), "--follow").stdout
    assert "==> unit:ios" in logs and "unit tests on ios" in logs and f"run {run_id} succeeded" in logs
    assert "s3cr3t-api-key" not in logs


def test_invalid_pipeline_fails_at_planning_with_the_errors(instep: Instep, repo: Repo) -> None:
    _register(instep, repo)
    sha = repo.commit(
        {
            "instep.yml": "version: 1\nplatforms: {android: {}}\nstages:\n  build:\n    needs: [nope]\n    run: x\n"
        }
    )
    run_id = instep.cli_json("run", "trigger", "--project", "shop", "--ref", "main")["id"]
    run = instep.wait_run(run_id)
    assert run["status"] == "failed" and run["sha"] == sha
    assert (
        "invalid instep.yml" in run["reason"] and "instep.yml:5:" in run["reason"] and "nope" in run["reason"]
    )
    assert "instep.yml:5:" in instep.cli("run", "show", str(run_id)).stdout


def test_an_unknown_device_profile_fails_planning_naming_it(instep: Instep, repo: Repo) -> None:
    _register(instep, repo)
    repo.commit(
        {
            "instep.yml": "version: 1\nplatforms: {android: {}}\nstages:\n  acceptance:\n"
            "    devices: [nokia-3310]\n"
        }
    )
    run = instep.wait_run(instep.cli_json("run", "trigger", "--project", "shop", "--ref", "main")["id"])
    assert (
        run["status"] == "failed" and "instep.yml:5:15: unknown device profile 'nokia-3310'" in run["reason"]
    )


def test_a_push_on_an_untracked_branch_is_skipped_with_the_reason(instep: Instep, repo: Repo) -> None:
    secret = _register(instep, repo)
    sha = repo.commit({"instep.yml": PIPELINE}, branch="docs")
    run_id = _github_push(instep, secret, sha, ref="refs/heads/docs").json()["run_id"]
    run = instep.wait_run(run_id)
    assert run["status"] == "skipped" and "docs" in run["reason"] and run["jobs"] == []


def test_a_hanging_job_is_killed_at_its_timeout(instep: Instep, repo: Repo) -> None:
    _register(instep, repo)
    marker = f"INSTEP_TEST_HANG={uuid.uuid4().hex}"
    repo.commit(
        {
            "instep.yml": f"version: 1\nplatforms: {{android: {{}}}}\nstages:\n  hang:\n    timeout: 2s\n"
            f"    run: 'export {marker}; sleep 300 & wait'\n"
        }
    )
    run_id = instep.cli_json("run", "trigger", "--project", "shop", "--ref", "main")["id"]
    run = instep.wait_run(run_id, timeout=60)
    assert run["status"] == "failed"
    assert run["jobs"][0]["reason"] == "timed out after 2 s"
    wait_for("the timed-out job's child to be gone", lambda: not processes_with_env(marker), timeout=10)


def test_cancel_reaches_a_running_job(instep: Instep, repo: Repo) -> None:
    _register(instep, repo)
    repo.commit(
        {
            "instep.yml": "version: 1\nplatforms: {android: {}}\nstages:\n  long:\n    run: echo started; sleep 300\n"
            "  after:\n    needs: [long]\n    run: echo never\n"
        }
    )
    run_id = instep.cli_json("run", "trigger", "--project", "shop", "--ref", "main")["id"]
    wait_for(
        "the job to run",
        lambda: instep.run(run_id)["jobs"] and instep.run(run_id)["jobs"][0]["status"] == "running",
    )
    instep.cli("run", "cancel", str(run_id))
    run = instep.wait_run(run_id, timeout=30)
    assert run["status"] == "canceled"
    assert {j["key"]: j["status"] for j in run["jobs"]} == {
        "long:android": "canceled",
        "after:android": "canceled",
    }


def test_webhook_bad_input_is_refused_with_the_reason(instep: Instep, repo: Repo) -> None:
    secret = _register(instep, repo)
    url = f"{instep.url}/api/webhooks/github"
    r = httpx.post(
        url,
        content=b"{not json",
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "x"},
    )
    assert r.status_code == 400
    body = json.dumps(
        {
            "ref": "refs/heads/main",
            "after": "a" * 40,
            "before": "0" * 40,
            "repository": {"full_name": "acme/shop"},
        }
    ).encode()
    r = httpx.post(
        url,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "y",
            "X-Hub-Signature-256": sign("wrong", body),
        },
    )
    assert r.status_code == 401
    other = body.replace(b"acme/shop", b"acme/other")
    r = httpx.post(
        url,
        content=other,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": "z",
            "X-Hub-Signature-256": sign(secret, other),
        },
    )
    # No project matches: answered like a bad signature (registration cannot be probed).
    assert r.status_code == 401 and "webhook secret of a project matching" in r.json()["detail"]
    big = b"{" + b" " * (25 * 1024 * 1024) + b"}"
    r = httpx.post(
        url,
        content=big,
        headers={"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "w"},
        timeout=60,
    )
    assert r.status_code == 413


def test_the_same_delivery_posted_20_times_at_once_starts_one_run(instep: Instep, repo: Repo) -> None:
    from concurrent.futures import ThreadPoolExecutor

    secret = _register(instep, repo)
    sha = repo.commit({"instep.yml": PIPELINE})
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(lambda _i: _github_push(instep, secret, sha, delivery="same-delivery"), range(20))
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 19 + [201], [a.text for a in answers]
    with instep.api() as api:
        assert len(api.get("/api/runs", params={"project": "shop"}).json()["runs"]) == 1


def test_gitlab_pushes_pings_and_deletions(instep: Instep, repo: Repo) -> None:
    secret = _register(instep, repo)
    sha = repo.commit({"instep.yml": PIPELINE})
    url = f"{instep.url}/api/webhooks/gitlab"
    body = json.dumps(
        {
            "object_kind": "push",
            "ref": "refs/heads/main",
            "before": "0" * 40,
            "after": sha,
            "checkout_sha": sha,
            "user_username": "dev",
            "project": {"path_with_namespace": "acme/shop"},
            "commits": [],
        }
    ).encode()
    headers = {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": secret}
    r = httpx.post(url, content=body, headers=headers)
    assert r.status_code == 201, r.text
    assert instep.wait_run(r.json()["run_id"])["status"] == "succeeded"
    wrong = httpx.post(url, content=body, headers={**headers, "X-Gitlab-Token": "not-the-secret"})
    assert wrong.status_code == 401
    deleted = json.dumps(
        {
            "ref": "refs/heads/old",
            "before": sha,
            "after": "0" * 40,
            "checkout_sha": None,
            "project": {"path_with_namespace": "acme/shop"},
        }
    ).encode()
    r = httpx.post(url, content=deleted, headers=headers)
    assert r.status_code == 202 and "deleted" in r.json()["reason"]
    r = httpx.post(url, content=body, headers={**headers, "Content-Type": "text/plain"})
    assert r.status_code == 400 and "content type" in r.json()["detail"]
    ping = json.dumps(
        {"zen": "Keep it simple.", "hook_id": 1, "repository": {"full_name": "acme/shop"}}
    ).encode()
    r = httpx.post(
        f"{instep.url}/api/webhooks/github",
        content=ping,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "p1",
            "X-Hub-Signature-256": sign(secret, ping),
        },
    )
    assert r.status_code == 200 and r.json()["status"] == "pong"
