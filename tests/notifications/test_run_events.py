"""Run state changes reach the project's endpoints: finished (succeeded, failed, canceled) and
waiting for review, each once, with a link to the run."""

from __future__ import annotations

import json

from orchestrator.db.models import Project, Run
from orchestrator.db.session import Database
from orchestrator.notifications.sender import Sender
from orchestrator.notifications.service import add_endpoint
from orchestrator.runs import create_run, move_run
from orchestrator.sealing import Sealer
from tests.notifications.conftest import Clock
from tests.notifications.receiver import Receiver

SHA = "3f786850e387550fdab836ed7e6dc881de23001b"


def test_run_events_reach_slack_and_webhooks_once_each(
    database: Database, sealer: Sealer, project: Project, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    with database.session() as s:
        p = s.get(Project, project.id)
        add_endpoint(
            s,
            p,
            sealer=sealer,
            kind="slack",
            url=f"{receiver.url}/slack",
            events=["run.*"],
            allow_private=True,
        )
        add_endpoint(
            s,
            p,
            sealer=sealer,
            kind="webhook",
            url=f"{receiver.url}/hook",
            events=["run.canceled"],
            allow_private=True,
        )
        run = create_run(s, p, trigger="push", ref="refs/heads/main", sha=SHA)
        move_run(s, run, "running", now=clock.now)
        move_run(s, run, "waiting", "waiting for screenshot review", now=clock.now)
        move_run(s, run, "running", now=clock.now)
        move_run(s, run, "canceled", "canceled by ana", now=clock.now)
        s.commit()
        run_id = run.id
    sender.deliver_due()

    slack = [json.loads(r.body)["text"] for r in receiver.requests if r.path == "/slack"]
    link = f"https://instep.example.com/runs/{run_id}"
    assert slack == [
        f"shop run #1 on main (3f786850) is waiting for screenshot review {link}",
        f"shop run #1 on main (3f786850) canceled by ana {link}",
    ]
    [hook] = [json.loads(r.body) for r in receiver.requests if r.path == "/hook"]
    assert hook["event"] == "run.canceled" and hook["url"] == link
    assert hook["data"]["run"] == {
        "id": run_id,
        "number": 1,
        "status": "canceled",
        "reason": "canceled by ana",
        "trigger": "push",
        "ref": "refs/heads/main",
        "sha": SHA,
    }
    with database.read_session() as s:
        assert s.get(Run, run_id).status == "canceled"
