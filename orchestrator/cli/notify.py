"""`instep notify add|list|remove|dead-letters|retry` and `instep notify commit-status set|show|remove`:
notification endpoints and commit statuses, administered on the server's database."""

from __future__ import annotations

from typing import Any

import click

from orchestrator.cli.server import load_settings
from toolrun.cli_output import emit_json, fail, json_option, table


def _runtime():  # type: ignore[no-untyped-def]
    from orchestrator.db.session import Database, upgrade
    from orchestrator.sealing import Sealer

    settings = load_settings()
    upgrade(settings.database_url)
    return settings, Database(settings.database_url), Sealer(settings.secret_key)


def _project(session, name: str):  # type: ignore[no-untyped-def]
    from orchestrator.projects import ProjectNotFound, get_project

    try:
        return get_project(session, name)
    except ProjectNotFound as exc:
        fail(f"{exc}; list projects with `instep project list`", 2)


def _endpoint_row(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind,
        "url": e.display_url,
        "events": list(e.events),
        "created_by": e.created_by,
        "created_at": e.created_at,
    }


project_option = click.option("--project", "-p", required=True, help="Project name.")


@click.group()
def notify() -> None:
    """Notifications (signed JSON webhooks, Slack) and commit statuses on GitHub/GitLab."""


@notify.command("add")
@project_option
@click.option("--kind", type=click.Choice(["webhook", "slack"]), required=True)
@click.option("--url", required=True, help="Where to POST (a Slack incoming-webhook URL for --kind slack).")
@click.option("--secret", default=None, help="Webhook signing secret (default: generated, shown once).")
@click.option(
    "--event",
    "events",
    multiple=True,
    metavar="PATTERN",
    help="Event name pattern to send, e.g. run.failed or release.* (repeatable; default: all).",
)
@json_option
def add(
    project: str, kind: str, url: str, secret: str | None, events: tuple[str, ...], as_json: bool
) -> None:
    """Send PROJECT's events to URL."""
    from orchestrator.notifications.service import NotificationError, add_endpoint

    settings, db, sealer = _runtime()
    with db.session() as s:
        try:
            endpoint, clear = add_endpoint(
                s,
                _project(s, project),
                sealer=sealer,
                kind=kind,
                url=url,
                secret=secret,
                events=events or ("*",),
                created_by="cli",
                allow_private=settings.allow_private_webhooks,
            )
        except NotificationError as exc:
            fail(str(exc), 2)
        s.commit()
        data = {**_endpoint_row(endpoint), "secret": clear}
    if as_json:
        emit_json(data)
        return
    click.echo(f"endpoint {data['id']}: {kind} {data['url']} for {', '.join(data['events'])}")
    if clear:
        click.echo(f"signing secret (shown once): {clear}")


@notify.command("list")
@project_option
@json_option
def list_(project: str, as_json: bool) -> None:
    """List PROJECT's notification endpoints."""
    from orchestrator.notifications.service import list_endpoints

    _, db, _ = _runtime()
    with db.read_session() as s:
        rows = [_endpoint_row(e) for e in list_endpoints(s, _project(s, project))]
    if as_json:
        emit_json(rows)
    elif not rows:
        click.echo(f"project {project} has no notification endpoints; add one with `instep notify add`")
    else:
        table(
            [[str(r["id"]), r["kind"], r["url"], ",".join(r["events"])] for r in rows],
            ["ID", "KIND", "URL", "EVENTS"],
        )


@notify.command("remove")
@project_option
@click.argument("endpoint_id", type=int)
@json_option
def remove(project: str, endpoint_id: int, as_json: bool) -> None:
    """Remove endpoint ENDPOINT_ID (and its pending deliveries and dead letters)."""
    from orchestrator.notifications.service import EndpointNotFound, remove_endpoint

    _, db, _ = _runtime()
    with db.session() as s:
        try:
            remove_endpoint(s, _project(s, project), endpoint_id)
        except EndpointNotFound as exc:
            fail(str(exc), 1)
        s.commit()
    if as_json:
        emit_json({"removed": endpoint_id})
    else:
        click.echo(f"endpoint {endpoint_id} removed")


def _delivery_row(d: Any, project: str) -> dict[str, Any]:
    return {
        "id": d.id,
        "delivery_id": d.delivery_id,
        "project": project,
        "channel": d.channel,
        "event": d.event,
        "state": d.state,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at,
        "finished_at": d.finished_at,
    }


@notify.command("dead-letters")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
@json_option
def dead_letters_(limit: int, as_json: bool) -> None:
    """Deliveries that used up their attempts, newest first, with the last error."""
    from orchestrator.notifications.service import dead_letters, project_names

    _, db, _ = _runtime()
    with db.read_session() as s:
        rows = dead_letters(s, limit=limit)
        names = project_names(s, {d.project_id for d in rows})
        data = [_delivery_row(d, names[d.project_id]) for d in rows]
    if as_json:
        emit_json(data)
    elif not data:
        click.echo("no dead letters")
    else:
        table(
            [
                [str(r["id"]), r["project"], r["event"], str(r["attempts"]), r["last_error"] or ""]
                for r in data
            ],
            ["ID", "PROJECT", "EVENT", "ATTEMPTS", "LAST ERROR"],
        )


@notify.command("retry")
@click.argument("delivery_id", type=int)
@json_option
def retry(delivery_id: int, as_json: bool) -> None:
    """Put dead letter DELIVERY_ID back in the outbox with fresh attempts."""
    from orchestrator.notifications.service import NotificationError, project_names, retry_dead_letter

    _, db, _ = _runtime()
    with db.session() as s:
        try:
            d = retry_dead_letter(s, delivery_id)
        except NotificationError as exc:
            fail(str(exc), 1)
        s.commit()
        data = _delivery_row(d, project_names(s, {d.project_id})[d.project_id])
    if as_json:
        emit_json(data)
    else:
        click.echo(f"delivery {delivery_id} queued again; the server sends it within seconds")


@notify.group("commit-status")
def commit_status() -> None:
    """Report each run's state on its commit in GitHub or GitLab."""


def _status_row(setting: Any, project: Any) -> dict[str, Any]:
    return {
        "project": project.name,
        "provider": setting.provider,
        "api_url": setting.api_url,
        "repository": setting.repository or project.match_name,
        "updated_at": setting.updated_at,
    }


@commit_status.command("set")
@project_option
@click.option("--provider", type=click.Choice(["github", "gitlab"]), required=True)
@click.option(
    "--token",
    envvar="INSTEP_COMMIT_STATUS_TOKEN",
    required=True,
    help="API token with commit-status scope (or set INSTEP_COMMIT_STATUS_TOKEN, kept out of shell history).",
)
@click.option(
    "--api-url", default=None, help="GitHub Enterprise https://HOST/api/v3, GitLab https://HOST/api/v4."
)
@click.option(
    "--repository", default=None, help="GitHub OWNER/NAME or GitLab GROUP/PROJECT (default: the match)."
)
@json_option
def status_set(
    project: str, provider: str, token: str, api_url: str | None, repository: str | None, as_json: bool
) -> None:
    """Report PROJECT's run states to PROVIDER with TOKEN (stored sealed)."""
    from orchestrator.notifications.service import NotificationError, set_commit_status

    settings, db, sealer = _runtime()
    with db.session() as s:
        p = _project(s, project)
        try:
            setting = set_commit_status(
                s,
                p,
                sealer=sealer,
                provider=provider,
                token=token,
                api_url=api_url,
                repository=repository,
                allow_private=settings.allow_private_webhooks,
            )
        except NotificationError as exc:
            fail(str(exc), 2)
        s.commit()
        data = _status_row(setting, p)
    if as_json:
        emit_json(data)
    else:
        click.echo(f"runs of {project} report to {provider} {data['repository']} via {data['api_url']}")


@commit_status.command("show")
@project_option
@json_option
def status_show(project: str, as_json: bool) -> None:
    """Show where PROJECT reports commit statuses (never the token)."""
    from orchestrator.notifications.service import commit_status_of

    _, db, _ = _runtime()
    with db.read_session() as s:
        p = _project(s, project)
        setting = commit_status_of(s, p)
        data = _status_row(setting, p) if setting else None
    if as_json:
        emit_json(data)
    elif data is None:
        click.echo(
            f"project {project} does not report commit statuses; see `instep notify commit-status set`"
        )
    else:
        click.echo(f"{data['provider']} {data['repository']} via {data['api_url']}")


@commit_status.command("remove")
@project_option
@json_option
def status_remove(project: str, as_json: bool) -> None:
    """Stop reporting PROJECT's commit statuses and forget the token."""
    from orchestrator.notifications.service import NotificationError, remove_commit_status

    _, db, _ = _runtime()
    with db.session() as s:
        try:
            remove_commit_status(s, _project(s, project))
        except NotificationError as exc:
            fail(str(exc), 1)
        s.commit()
    if as_json:
        emit_json({"project": project, "removed": True})
    else:
        click.echo(f"project {project} no longer reports commit statuses")
