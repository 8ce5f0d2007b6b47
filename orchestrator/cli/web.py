"""`instep web record-deployment|rollback|list`: the web's pipeline tells Instep what it deployed
(one line in its CI, with a `web_deployer` token), over the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from orchestrator.cli.runs import _call, _client, with_connection
from toolrun.cli_output import emit_json, fail, json_option, table


@click.group()
def web() -> None:
    """Record what the web deployed to each environment (for web parity)."""


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, version = value.partition("=")
        if not sep or not name.strip() or not version.strip():
            fail(f"--contract {value!r}: expected NAME=VERSION, e.g. orders=v3", 2)
        out[name.strip()] = version.strip()
    return out


def _check(value: str | None, what: str) -> None:
    from orchestrator.parity.ranges import InvalidRange, parse_version

    if value is None:
        return
    try:
        parse_version(value, what)
    except InvalidRange as exc:
        fail(str(exc), 2)


def print_change(data: dict[str, Any]) -> None:
    d = data["deployment"]
    if d["status"] == "rolled_back" and data.get("rolled_back_to") is not None and data["current"] != d:
        click.echo(f"{d['environment']} web {d['version']} rolled back; now {data['rolled_back_to']}")
    else:
        api = f" (api {d['api_version']})" if d.get("api_version") else ""
        click.echo(f"recorded {d['environment']} web {d['version']}{api} as deployment {d['id']}")
        if data.get("rolled_back_to"):
            click.echo(f"  it re-deploys an older version: the web rolled back to {data['rolled_back_to']}")
    current = data.get("current")
    if current and current["id"] != d["id"]:
        click.echo(
            f"  current in {current['environment']}: web {current['version']} (deployed {current['deployed_at'][:19]})"
        )
    for halt in data.get("halted") or []:
        click.echo(f"  release {halt['version']} {halt['platform']}: {halt['reason']}")


@web.command("record-deployment")
@click.option("--project", required=True)
@click.option("--env", "environment", required=True, help="The environment deployed to, e.g. production.")
@click.option("--version", "version", required=True, help="The web release, e.g. 2026.12.1.")
@click.option("--api-version", default=None, help="The API version it provides, e.g. 2025-11.")
@click.option(
    "--contract",
    "contracts",
    multiple=True,
    metavar="NAME=VERSION",
    help="A contract it provides (version or hash). Repeatable.",
)
@click.option(
    "--feature", "features", multiple=True, metavar="FLAG", help="A feature flag it has. Repeatable."
)
@click.option("--commit", default=None, help="The commit deployed.")
@click.option("--deployed-at", default=None, help="When it went live (ISO 8601; default: now).")
@with_connection
@json_option
def record_deployment(
    project: str,
    environment: str,
    version: str,
    api_version: str | None,
    contracts: tuple[str, ...],
    features: tuple[str, ...],
    commit: str | None,
    deployed_at: str | None,
    url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Record a web deployment: it replaces the previous one in ENV; waiting release gates are
    re-evaluated. Exit 0 when recorded, 2 on bad input."""
    _check(version, "--version")
    _check(api_version, "--api-version")
    body: dict[str, Any] = {
        "project": project,
        "environment": environment,
        "version": version,
        "api_version": api_version,
        "commit": commit,
        "contracts": _pairs(contracts),
        "features": list(features),
    }
    if deployed_at is not None:
        try:
            datetime.fromisoformat(deployed_at.replace("Z", "+00:00"))
        except ValueError:
            fail(f"--deployed-at {deployed_at!r} is not an ISO 8601 time (e.g. 2026-12-02T10:00:00Z)", 2)
        body["deployed_at"] = deployed_at
    data = _call(_client(url, token).request, "POST", "/api/web-deployments", json=body)
    emit_json(data) if as_json else print_change(data)


@web.command("rollback")
@click.option("--project", required=True)
@click.option("--env", "environment", required=True)
@click.option(
    "--version",
    "version",
    default=None,
    help="The version being rolled back (checked against the current one).",
)
@click.option("--reason", default="", help="Why (kept in the history and the audit).")
@with_connection
@json_option
def rollback(
    project: str,
    environment: str,
    version: str | None,
    reason: str,
    url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Mark the current web deployment of ENV rolled back: the one before it is current again and
    shipped releases it no longer serves are halted."""
    body = {"project": project, "environment": environment, "version": version, "reason": reason}
    data = _call(_client(url, token).request, "POST", "/api/web-deployments/rollback", json=body)
    emit_json(data) if as_json else print_change(data)


@web.command("list")
@click.option("--project", required=True)
@click.option("--env", "environment", default=None)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200))
@with_connection
@json_option
def list_(
    project: str, environment: str | None, limit: int, url: str | None, token: str | None, as_json: bool
) -> None:
    """Recorded web deployments, newest first."""
    params = {
        k: v
        for k, v in {"project": project, "environment": environment, "limit": limit}.items()
        if v is not None
    }
    data = _call(_client(url, token).request, "GET", "/api/web-deployments", params=params)
    if as_json:
        emit_json(data)
        return
    rows = [
        [
            str(d["id"]),
            d["environment"],
            d["version"],
            d.get("api_version") or "-",
            d["status"],
            d["deployed_at"][:19],
            d["recorded_by"],
        ]
        for d in data["deployments"]
    ]
    table(rows, ["ID", "ENV", "VERSION", "API", "STATUS", "DEPLOYED", "BY"])
