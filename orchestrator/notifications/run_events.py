"""What a run's state change puts in the outbox: the `run.*` event for the project's endpoints and
the commit status for GitHub/GitLab, written in the transaction that moved the run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from orchestrator.db.models import Project, Run, utcnow
from orchestrator.notifications.commit_status import REPORTED
from orchestrator.notifications.models import PENDING, NotificationDelivery
from orchestrator.notifications.outgoing import outcome_phrase
from orchestrator.notifications.service import commit_status_of, new_delivery_id, publish

RUN_EVENTS = {
    "succeeded": "run.succeeded",
    "failed": "run.failed",
    "canceled": "run.canceled",
    "waiting": "run.waiting",
}


def run_snapshot(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "number": run.number,
        "status": run.status,
        "reason": run.reason,
        "trigger": run.trigger,
        "ref": run.ref,
        "sha": run.sha,
    }


def status_context(project: Project) -> str:
    return f"instep/{project.name}"


def run_summary(project: Project, run: Run) -> str:
    ref = run.ref.removeprefix("refs/heads/")
    where = f"{ref} ({run.sha[:8]})"
    if run.status == "waiting":
        text = f"{project.name} run #{run.number} on {where} is {outcome_phrase('waiting', run.reason or 'waiting for review')}"
    else:
        text = f"{project.name} run #{run.number} on {where} {outcome_phrase(run.status, run.reason)}"
    return text


def on_run_moved(session: Session, run: Run, *, now: datetime | None = None) -> None:
    """Called by `orchestrator.runs.move_run` after the run's status changed; the caller commits."""
    event = RUN_EVENTS.get(run.status)
    if event is None and run.status not in REPORTED:
        return
    now = now or utcnow()
    project = run.project
    snapshot = run_snapshot(run)
    if event is not None:
        payload = {
            "summary": run_summary(project, run),
            "path": f"/runs/{run.id}",
            "project": project.name,
            "run": snapshot,
        }
        publish(session, project.id, event, payload, now=now)
    if run.status in REPORTED and (setting := commit_status_of(session, project)) is not None:
        context = status_context(project)
        session.add(
            NotificationDelivery(
                delivery_id=new_delivery_id(),
                project_id=project.id,
                channel=setting.provider,
                event=f"commit_status.{run.status}",
                payload={"run": snapshot, "context": context},
                # Only the newest status of a commit is worth sending (see sender.supersede).
                coalesce_key=f"status:{project.id}:{run.sha}:{context}",
                state=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        session.flush()
