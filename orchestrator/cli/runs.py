"""`instep run trigger|list|show|logs|cancel`: talk to a running Instep over its REST API."""

from __future__ import annotations

import time

import click

from orchestrator.client import ApiError, InstepClient
from toolrun.cli_output import emit_json, fail, json_option, table

FINAL = {"succeeded", "failed", "canceled", "skipped"}
FOLLOW_POLL_SECONDS = 0.5


def _client(url: str | None, token: str | None) -> InstepClient:
    from orchestrator.cli.server import load_settings

    settings = load_settings()
    token = token or settings.token
    if not token:
        fail(
            "no API token: pass --token or set INSTEP_TOKEN (create one with `instep token create --role developer`)",
            2,
        )
    return InstepClient(url or settings.url, token)


def _call(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return fn(*args, **kwargs)
    except ApiError as exc:
        fail(str(exc), 2 if exc.status in (400, 404, 409, 422) else 1)


connection = [
    click.option("--url", default=None, help="Instep URL (default: INSTEP_URL or http://127.0.0.1:8080)."),
    click.option("--token", default=None, help="API token (default: INSTEP_TOKEN)."),
]


def with_connection(f):  # type: ignore[no-untyped-def]
    for option in reversed(connection):
        f = option(f)
    return f


@click.group()
def run() -> None:
    """Trigger, inspect, follow and cancel runs."""


@run.command()
@click.option("--project", required=True)
@click.option("--ref", required=True, help="Branch, tag or full ref.")
@click.option("--sha", default=None, help="Exact commit (default: the ref's current commit).")
@with_connection
@json_option
def trigger(
    project: str, ref: str, sha: str | None, url: str | None, token: str | None, as_json: bool
) -> None:
    """Start a run of PROJECT at REF."""
    body = {"project": project, "ref": ref, **({"sha": sha} if sha else {})}
    data = _call(_client(url, token).request, "POST", "/api/runs", json=body)
    if as_json:
        emit_json(data)
    else:
        click.echo(f"run {data['id']} (#{data['number']}) queued for {data['ref']} at {data['sha'][:12]}")


@run.command("list")
@click.option("--project", default=None)
@click.option("--status", default=None)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200))
@with_connection
@json_option
def list_(
    project: str | None, status: str | None, limit: int, url: str | None, token: str | None, as_json: bool
) -> None:
    """List runs, newest first."""
    params = {
        k: v for k, v in {"project": project, "status": status, "limit": limit}.items() if v is not None
    }
    data = _call(_client(url, token).request, "GET", "/api/runs", params=params)
    if as_json:
        emit_json(data)
        return
    rows = [
        [
            str(r["id"]),
            r["project"],
            f"#{r['number']}",
            r["ref"].removeprefix("refs/heads/"),
            r["sha"][:10],
            r["status"],
            (r["reason"] or "").splitlines()[0][:60] if r["reason"] else "",
        ]
        for r in data["runs"]
    ]
    table(rows, ["ID", "PROJECT", "RUN", "REF", "SHA", "STATUS", "REASON"])


@run.command()
@click.argument("run_id", type=int)
@with_connection
@json_option
def show(run_id: int, url: str | None, token: str | None, as_json: bool) -> None:
    """Show a run with its jobs."""
    data = _call(_client(url, token).request, "GET", f"/api/runs/{run_id}")
    if as_json:
        emit_json(data)
        return
    click.echo(
        f"run {data['id']} #{data['number']} {data['project']} {data['ref']} {data['sha'][:12]}: "
        f"{data['status']}"
    )
    if data.get("message"):
        click.echo(f"commit: {data['message'].splitlines()[0]}")
    if data["reason"]:
        click.echo(f"reason: {data['reason']}")
    if data["jobs"]:
        table(
            [
                [str(j["id"]), j["key"], j["queue"], j["status"], str(j["attempts"]), j["reason"] or ""]
                for j in data["jobs"]
            ],
            ["JOB", "KEY", "QUEUE", "STATUS", "ATTEMPTS", "REASON"],
        )


@run.command()
@click.argument("run_id", type=int)
@click.option("--job", "job_key", default=None, help="Only this job (its key, e.g. build:android).")
@click.option("--follow", "-f", is_flag=True, help="Stream live until the run ends.")
@with_connection
def logs(run_id: int, job_key: str | None, follow: bool, url: str | None, token: str | None) -> None:
    """Print the logs of a run's jobs (live with --follow)."""
    client = _client(url, token)
    shown: set[int] = set()
    while True:
        data = _call(client.request, "GET", f"/api/runs/{run_id}")
        jobs = [j for j in data["jobs"] if job_key is None or j["key"] == job_key]
        if job_key is not None and not jobs and data["jobs"]:
            fail(
                f"run {run_id} has no job {job_key!r} (jobs: {', '.join(j['key'] for j in data['jobs'])})", 2
            )
        for job in jobs:
            if job["id"] in shown or job["status"] in ("pending", "queued"):
                continue
            if job["status"] == "skipped" and not job["attempts"]:
                shown.add(job["id"])
                click.echo(f"==> {job['key']}: skipped ({job['reason']})")
                continue
            click.echo(f"==> {job['key']}")
            if follow:
                _call(_follow_job, client, job["id"])
            else:
                click.echo(_call(client.text, f"/api/jobs/{job['id']}/log"), nl=False)
            shown.add(job["id"])
        settled = data["status"] in FINAL or (
            data["status"] == "waiting" and all(j["id"] in shown or j["status"] == "pending" for j in jobs)
        )
        if not follow or settled and all(j["id"] in shown or j["status"] == "pending" for j in jobs):
            if follow:
                click.echo(
                    f"==> run {run_id} {data['status']}" + (f": {data['reason']}" if data["reason"] else "")
                )
            return
        time.sleep(FOLLOW_POLL_SECONDS)


def _follow_job(client: InstepClient, job_id: int) -> None:
    for event, text in client.stream_log(job_id):
        if event == "end":
            return
        click.echo(text)


@run.command()
@click.argument("run_id", type=int)
@with_connection
@json_option
def cancel(run_id: int, url: str | None, token: str | None, as_json: bool) -> None:
    """Cancel a run; running jobs are stopped (their whole process group is killed)."""
    data = _call(_client(url, token).request, "POST", f"/api/runs/{run_id}/cancel")
    if as_json:
        emit_json(data)
    else:
        click.echo(f"run {run_id}: cancel requested")
