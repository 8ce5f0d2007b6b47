"""Commit statuses: a run's states reach GitHub and GitLab (a loopback receiver standing in for
the API base URL of GitHub Enterprise / self-hosted GitLab) in each provider's documented shape."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from orchestrator.db.models import Job, Project, Run
from orchestrator.db.session import Database
from orchestrator.notifications.commit_status import description
from orchestrator.notifications.models import NotificationDelivery
from orchestrator.notifications.sender import Sender
from orchestrator.notifications.service import NotificationError, set_commit_status
from orchestrator.runs import create_run, move_run
from orchestrator.scheduler import advance, finish_attempt, start_attempt
from orchestrator.sealing import Sealer
from tests.notifications.conftest import Clock
from tests.notifications.receiver import Receiver

SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
GITHUB_STATES = {"pending", "success", "failure", "error"}
GITLAB_STATES = {"pending", "running", "success", "failed", "canceled"}


def _report_to(
    database: Database, sealer: Sealer, project: Project, provider: str, api_url: str, **kw
) -> None:  # type: ignore[no-untyped-def]
    with database.session() as s:
        set_commit_status(
            s,
            s.get(Project, project.id),
            sealer=sealer,
            provider=provider,
            token="tok-123",
            api_url=api_url,
            allow_private=True,
            **kw,
        )
        s.commit()


def _run_one_job(
    database: Database, project: Project, clock: Clock, sender: Sender, outcome: str, reason: str | None
) -> int:
    """A run with one job, driven through the scheduler to `outcome`; the sender runs while the
    job runs, as the server's sender loop would."""
    with database.session() as s:
        run = create_run(s, s.get(Project, project.id), trigger="push", ref="refs/heads/main", sha=SHA)
        s.add(
            Job(
                run_id=run.id,
                key="unit",
                stage="unit",
                kind="run",
                queue="default",
                timeout_s=60,
                spec={"run": "true"},
            )
        )
        s.flush()
        [dispatch] = advance(s, run.id, now=clock.now)
        s.commit()
    sender.deliver_due()
    with database.session() as s:
        start_attempt(s, dispatch.job_id, 1, "w", now=clock.now)
        finish_attempt(s, dispatch.job_id, 1, outcome, reason, now=clock.now)
        s.commit()
        assert s.get(Run, run.id).status == outcome
    sender.deliver_due()
    return run.id


def test_github_gets_pending_then_exactly_one_final_status(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    _report_to(database, sealer, project, "github", f"{receiver.url}/api/v3")
    run_id = _run_one_job(database, project, clock, sender, "failed", "failed: unit")

    assert [r.path for r in receiver.requests] == [f"/api/v3/repos/acme/shop/statuses/{SHA}"] * 2
    for r in receiver.requests:
        assert r.method == "POST"
        assert r.headers["authorization"] == "Bearer tok-123"
        assert r.headers["accept"] == "application/vnd.github+json"
        assert r.headers["x-github-api-version"] == "2022-11-28"
        body = json.loads(r.body)
        assert set(body) == {"state", "target_url", "description", "context"}
        assert body["state"] in GITHUB_STATES and len(body["description"]) <= 140
        assert body["context"] == "instep/shop"
        assert body["target_url"] == f"https://instep.example.com/runs/{run_id}"
    first, final = (json.loads(r.body) for r in receiver.requests)
    assert first["state"] == "pending" and first["description"] == "Instep run #1 is running"
    assert final["state"] == "failure"
    assert final["description"] == "Instep run #1 failed: unit"

    # The run is over: nothing can move it again, so no second final status is ever queued.
    with database.session() as s, pytest.raises(Exception, match="cannot go from failed"):
        move_run(s, s.get(Run, run_id), "succeeded")
    assert sender.deliver_due() == 0
    assert len(receiver.requests) == 2


def test_gitlab_gets_its_own_states_name_ref_and_private_token(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    _report_to(database, sealer, project, "gitlab", f"{receiver.url}/api/v4", repository="acme/mobile/shop")
    _run_one_job(database, project, clock, sender, "succeeded", None)

    assert [r.path for r in receiver.requests] == [
        f"/api/v4/projects/acme%2Fmobile%2Fshop/statuses/{SHA}"
    ] * 2
    for r in receiver.requests:
        assert r.headers["private-token"] == "tok-123" and "authorization" not in r.headers
        assert r.headers["accept"] == "application/json"
        body = json.loads(r.body)
        assert set(body) == {"state", "name", "target_url", "description", "ref"}
        assert body["state"] in GITLAB_STATES
        assert body["name"] == "instep/shop" and body["ref"] == "main"
    assert [json.loads(r.body)["state"] for r in receiver.requests] == ["running", "success"]


def test_only_the_newest_status_of_a_commit_is_sent_when_they_queue_up(
    database: Database, sealer: Sealer, project: Project, sender: Sender, clock: Clock
) -> None:
    with Receiver(default_status=503) as down:
        _report_to(database, sealer, project, "github", down.url)
        with database.session() as s:
            run = create_run(s, s.get(Project, project.id), trigger="push", ref="refs/heads/main", sha=SHA)
            move_run(s, run, "running", now=clock.now)
            s.commit()
        sender.deliver_due()
        assert [json.loads(r.body)["state"] for r in down.requests] == ["pending"]
        with database.session() as s:
            move_run(s, s.get(Run, run.id), "canceled", "canceled by ana", now=clock.now)
            s.commit()
        clock.advance(minutes=1)
        sender.deliver_due()
    # The pending status waiting for its retry is superseded: a late "pending" must never
    # overwrite the final state on the provider.
    assert [json.loads(r.body)["state"] for r in down.requests] == ["pending", "error"]
    with database.read_session() as s:
        states = [d.state for d in s.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id))]
    assert states == ["superseded", "pending"]


def test_a_provider_outage_never_blocks_the_run(
    database: Database, sealer: Sealer, project: Project, sender: Sender, clock: Clock
) -> None:
    with Receiver(default_status=500) as down:
        _report_to(database, sealer, project, "github", down.url)
        _run_one_job(database, project, clock, sender, "succeeded", None)
        assert len(down.requests) == 2
    with database.read_session() as s:
        assert s.scalar(select(Run.status)) == "succeeded"


def test_a_project_without_a_token_reports_nothing(
    database: Database, project: Project, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    _run_one_job(database, project, clock, sender, "succeeded", None)
    assert sender.deliver_due() == 0 and receiver.requests == []


def test_settings_that_cannot_work_are_refused(database: Database, sealer: Sealer, project: Project) -> None:
    with database.session() as s:
        p = s.get(Project, project.id)
        with pytest.raises(NotificationError, match="must be OWNER/NAME"):
            set_commit_status(
                s, p, sealer=sealer, provider="github", token="t", repository="a/b/c", allow_private=True
            )
        with pytest.raises(NotificationError, match="not one of: github, gitlab"):
            set_commit_status(s, p, sealer=sealer, provider="bitbucket", token="t", allow_private=True)
        with pytest.raises(NotificationError, match="127.0.0.1 is a loopback address"):
            set_commit_status(
                s,
                p,
                sealer=sealer,
                provider="gitlab",
                token="t",
                api_url="http://127.0.0.1:1/api/v4",
                allow_private=False,
            )


def test_descriptions_stay_within_githubs_140_characters() -> None:
    run = {"number": 12, "status": "failed", "reason": "stage acceptance failed: " + "x" * 300}
    text = description(run)
    assert len(text) == 140 and text.endswith("…")
