"""Submission against a real `instep serve` (embedded: uvicorn, in-process worker, SQLite) and the
store simulator as its own process (`python -m stores.simulator`), on a real git repository:
50 parallel approvals submit once (one upload, one commit in the simulator's log); a worker
killed with SIGKILL after the store accepted the commit and before the ledger was updated
leaves, after a restart, the release `submitted` and one commit; store credentials reach the
submit job of a protected ref only, and no log or API answer shows them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Repo
from tests.integration.harness import Instep, wait_for

pytestmark = pytest.mark.integration

UPLOAD = "androidpublisher.edits.bundles.upload"
COMMIT = "androidpublisher.edits.commit"
BUNDLE = (
    f'{sys.executable} -c "import sys; from stores.simulator import make_test_bundle; '
    "open(sys.argv[1], 'wb').write(make_test_bundle(int(sys.argv[2]), '1.0.0'))\" "
    '"$INSTEP_ARTIFACTS_DIR/app.aab" "$INSTEP_BUILD_NUMBER"'
)


# The names (never the values) of a job's environment, on one line of its log.
NAMES = "echo env names: $(env | cut -d= -f1 | sort | tr '\\n' ' ')"


def pipeline(sim_url: str, *, submit: str = "{needs: [gate]}", names: bool = False) -> str:
    dump = f"\n      {NAMES}" if names else ""
    return f"""version: 1
platforms: {{android: {{}}}}
stages:
  build:
    run: |
      mkdir -p "$INSTEP_ARTIFACTS_DIR"
      {BUNDLE}{dump}
  gate: {{needs: [build]}}
  submit: {submit}
release:
  approvals: {{qa: 1, release_manager: 1}}
  store:
    google_play: {{package_name: dev.instep.sample}}
    base_url: {sim_url}
"""


class Simulator:
    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.log = (home / "simulator.out").open("wb+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stores.simulator", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=self.log,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        match = re.search(r"listening on (http://\S+)", line)
        assert match, f"the simulator did not start: {line!r}"
        self.url = match.group(1)
        self.admin = httpx.Client(base_url=self.url, timeout=10)

    def requests(self, operation: str | None = None) -> list[dict[str, Any]]:
        params = {"operation": operation} if operation else None
        return self.admin.get("/_sim/requests", params=params).json()["requests"]

    def invalid(self) -> list[dict[str, Any]]:
        return self.admin.get("/_sim/requests", params={"invalid": "1"}).json()["requests"]

    def credentials(self) -> dict[str, Any]:
        return self.admin.get("/_sim/credentials").json()

    def stop(self) -> None:
        self.admin.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        self.log.close()


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Simulator]:
    sim = Simulator(tmp_path / "sim")
    try:
        yield sim
        assert not sim.invalid(), f"requests the official descriptions refuse: {sim.invalid()}"
        for commit in sim.requests(COMMIT):
            assert commit["query"].get("changesInReviewBehavior") == ["ERROR_IF_IN_REVIEW"], commit
    finally:
        sim.stop()


def start(tmp_path: Path, **env: str) -> Instep:
    server = Instep(
        tmp_path / "home",
        {"INSTEP_STORE_POLL_SECONDS": "3600", "INSTEP_LOST_AFTER_SECONDS": "3", **env},
    )
    server.serve()
    return server


@pytest.fixture
def servers() -> Iterator[list[Instep]]:
    started: list[Instep] = []
    try:
        yield started
    finally:
        for server in started:
            server.stop()


def token(instep: Instep, role: str, name: str) -> dict[str, str]:
    clear = instep.cli_json("token", "create", "--role", role, "--name", name)["token"]
    return {"Authorization": f"Bearer {clear}"}


def add_project(instep: Instep, repo: Repo, sim: Simulator, text: str) -> str:
    repo.commit({"instep.yml": text}, "release pipeline")
    account = json.dumps(sim.credentials()["google_play"])
    instep.cli_json(
        "project", "add", "shop", "--repo", repo.url, "--secret", f"PLAY_SERVICE_ACCOUNT_JSON={account}"
    )
    return account


def run_at_gate(instep: Instep, ref: str = "main") -> int:
    run_id = instep.cli_json("run", "trigger", "--project", "shop", "--ref", ref)["id"]
    run = instep.wait_run(run_id, timeout=120, states=("waiting", "succeeded", "failed", "canceled"))
    assert any(j["key"] == "gate" and j["status"] == "waiting" for j in run["jobs"]), [
        (j["key"], j["status"], j["reason"]) for j in run["jobs"]
    ]
    return run_id


def cut_and_sign_off(instep: Instep, http: httpx.Client, run_id: int) -> int:
    r = http.post(
        "/api/releases",
        json={"project": "shop", "run_id": run_id, "version": "1.0.0"},
        headers=token(instep, "release_manager", "bob"),
    )
    assert r.status_code == 201, r.text
    release_id = r.json()["id"]
    r = http.post(f"/api/releases/{release_id}/approve", json={}, headers=token(instep, "qa", "quinn"))
    assert r.status_code == 200, r.text
    return release_id


def shown(instep: Instep, release_id: int) -> dict[str, Any]:
    with instep.api() as c:
        return c.get(f"/api/releases/{release_id}").json()


def test_fifty_parallel_approvals_submit_once(
    tmp_path: Path, repo: Repo, simulator: Simulator, servers
) -> None:  # type: ignore[no-untyped-def]
    instep = start(tmp_path)
    servers.append(instep)
    account = add_project(instep, repo, simulator, pipeline(simulator.url))
    run_id = run_at_gate(instep)
    with httpx.Client(base_url=instep.url, timeout=60) as http:
        release_id = cut_and_sign_off(instep, http, run_id)
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
    assert len(simulator.requests(UPLOAD)) == 1 and len(simulator.requests(COMMIT)) == 1
    release = shown(instep, release_id)
    assert release["platforms"][0]["state"] == "submitted"
    assert [(a["action"], a["state"]) for a in release["store_actions"]] == [("submit", "confirmed")]
    # The credentials are in no answer and no log.
    private_key = json.loads(account)["private_key"]
    with instep.api() as c:
        answers = [c.get(f"/api/releases/{release_id}").text, c.get(f"/api/runs/{run_id}").text]
        answers += [c.get(f"/api/releases/{release_id}/audit").text, c.get("/api/projects").text]
        answers += [c.get(f"/api/jobs/{j['id']}/log").text for j in run["jobs"]]
    for text in answers:
        assert private_key not in text and "BEGIN PRIVATE KEY" not in text


def test_a_worker_killed_after_the_store_accepted_leaves_the_release_submitted_with_one_commit(
    tmp_path: Path, repo: Repo, simulator: Simulator, servers
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "paused-after-store-send"
    instep = start(tmp_path, INSTEP_TEST_PAUSE_AFTER_STORE_SEND=str(marker))
    servers.append(instep)
    add_project(instep, repo, simulator, pipeline(simulator.url))
    run_id = run_at_gate(instep)
    with httpx.Client(base_url=instep.url, timeout=60) as http:
        release_id = cut_and_sign_off(instep, http, run_id)
        r = http.post(
            f"/api/releases/{release_id}/approve", json={}, headers=token(instep, "release_manager", "rita")
        )
        assert r.status_code == 200, r.text
    wait_for("the store to accept and the worker to pause", marker.exists, timeout=120)
    assert len(simulator.requests(COMMIT)) == 1
    serve = next(proc for name, proc, _log in instep.procs if name == "serve")
    os.killpg(serve.pid, signal.SIGKILL)  # the worker runs inside `instep serve` (embedded)
    serve.wait(10)
    assert shown_offline_state(instep) == "submitting"

    instep.env.pop("INSTEP_TEST_PAUSE_AFTER_STORE_SEND")
    instep.serve()
    run = instep.wait_run(run_id, timeout=120)
    assert run["status"] == "succeeded", [(j["key"], j["status"], j["reason"]) for j in run["jobs"]]
    submit = next(j for j in run["jobs"] if j["kind"] == "submit")
    assert submit["attempts"] == 2
    release = shown(instep, release_id)
    assert release["platforms"][0]["state"] == "submitted"
    action = release["store_actions"][0]
    assert (action["action"], action["state"], action["answer"]["via"]) == ("submit", "confirmed", "read")
    assert len(simulator.requests(COMMIT)) == 1 and len(simulator.requests(UPLOAD)) == 1


def shown_offline_state(instep: Instep) -> str:
    """The platform state straight from the database while the server is down."""
    import sqlite3

    with sqlite3.connect(instep.home / "instep.db") as db:
        return db.execute("select state from release_platforms").fetchone()[0]


def env_names(log: str) -> list[str]:
    line = next(line for line in log.splitlines() if line.startswith("env names:"))
    return line.removeprefix("env names:").split()


def test_store_credentials_reach_the_submit_job_of_a_protected_ref_only(
    tmp_path: Path, repo: Repo, simulator: Simulator, servers
) -> None:  # type: ignore[no-untyped-def]
    submit = (
        '{needs: [gate], run: \'printf "canary check %s\\\\n" "$PLAY_SERVICE_ACCOUNT_JSON"; '
        "echo decoded $PLAY_SERVICE_ACCOUNT_JSON; " + NAMES.replace("'", "''") + "'}"
    )
    instep = start(tmp_path)
    servers.append(instep)
    account = add_project(instep, repo, simulator, pipeline(simulator.url, submit=submit, names=True))
    repo.commit({}, "a feature", branch="feature/x")
    feature_run = run_at_gate(instep, "feature/x")
    main_run = run_at_gate(instep, "main")
    with httpx.Client(base_url=instep.url, timeout=60) as http:
        release_id = cut_and_sign_off(instep, http, main_run)
        r = http.post(
            f"/api/releases/{release_id}/approve", json={}, headers=token(instep, "release_manager", "rita")
        )
        assert r.status_code == 200, r.text
    run = instep.wait_run(main_run, timeout=120)
    assert run["status"] == "succeeded", [(j["key"], j["status"], j["reason"]) for j in run["jobs"]]
    private_key = json.loads(account)["private_key"]
    with instep.api() as c:
        runs = {main_run: run["jobs"], feature_run: instep.run(feature_run)["jobs"]}
        logs = {
            (run_id, j["key"]): c.get(f"/api/jobs/{j['id']}/log").text
            for run_id, jobs in runs.items()
            for j in jobs
            if j["status"] in ("succeeded", "failed", "waiting")
        }
        answers = [c.get(f"/api/releases/{release_id}").text, c.get(f"/api/runs/{main_run}").text]
    assert "PLAY_SERVICE_ACCOUNT_JSON" in env_names(logs[(main_run, "submit:android")])
    assert "canary check ***" in logs[(main_run, "submit:android")]
    for build_run in (feature_run, main_run):
        assert "PLAY_SERVICE_ACCOUNT_JSON" not in env_names(logs[(build_run, "build:android")])
    key_lines = [line for line in private_key.splitlines() if len(line) >= 6]
    for text in [*logs.values(), *answers]:
        assert private_key not in text and account not in text
        assert not [line for line in key_lines if line in text]
