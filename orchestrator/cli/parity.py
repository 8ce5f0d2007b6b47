"""`instep parity` (the board: web, iOS and Android side by side per environment, with the
drift) and `instep can-i-ship` (the parity check for a version before a release exists), over
the REST API."""

from __future__ import annotations

from typing import Any

import click

from orchestrator.cli.runs import _call, _client, with_connection
from toolrun.cli_output import emit_json, fail, json_option

MARKS = {"passed": "ok", "failed": "FAILED", "pending": "..."}


def print_board(data: dict[str, Any]) -> None:
    if not data["environments"]:
        click.echo(
            f"{data['project']}: no web deployment recorded yet "
            "(the web's pipeline runs `instep web record-deployment`)"
        )
        return
    for env in data["environments"]:
        web = env["web"]
        if web is None:
            click.echo(f"{env['environment']}: web -  (no deployment recorded)")
        else:
            api = f"  api {web['api_version']}" if web.get("api_version") else ""
            click.echo(f"{env['environment']}: web {web['version']}{api}  (deployed {env['web_since']} ago)")
        for p in env["platforms"]:
            release = p["release"]
            if release is None:
                click.echo(f"  {p['platform']:<8} -")
                continue
            reason = f" ({release['reason']})" if release.get("reason") else ""
            click.echo(f"  {p['platform']:<8} {release['version']:<12} {release['state']}{reason}")
            drift = p["drift"]
            if drift and drift["versions_behind"]:
                click.echo(
                    f"           drift: {drift['versions_behind']} web version(s) deployed since it was cut "
                    f"({', '.join(drift['web_versions_since_cut'])}), behind for {drift['behind_for']}"
                )
            elif drift:
                click.echo("           drift: none (no web deployment since it was cut)")
            if p["parity"]:
                click.echo(f"           parity [{MARKS[p['parity']['state']]}]: {p['parity']['reason']}")


@click.command("parity")
@click.option("--project", default=None, help="One project (default: every project).")
@with_connection
@json_option
def parity(project: str | None, url: str | None, token: str | None, as_json: bool) -> None:
    """The parity board: per environment, the web version and API version, the latest iOS and
    Android releases with their state, their parity and the drift."""
    client = _client(url, token)
    names = [project] if project else [p["name"] for p in _call(client.request, "GET", "/api/projects")]
    boards = [_call(client.request, "GET", f"/api/projects/{name}/parity") for name in names]
    if as_json:
        emit_json(boards[0] if project else boards)
        return
    if not boards:
        click.echo("no projects yet; add one with `instep project add NAME --repo URL`")
    for i, data in enumerate(boards):
        if len(boards) > 1:
            click.echo(("\n" if i else "") + f"== {data['project']}")
        print_board(data)


@click.command("can-i-ship")
@click.option("--project", required=True)
@click.option("--version", "version", required=True, help="The mobile version, e.g. 4.2.0.")
@click.option("--platform", type=click.Choice(["ios", "android"]), default=None)
@with_connection
@json_option
def can_i_ship(
    project: str, version: str, platform: str | None, url: str | None, token: str | None, as_json: bool
) -> None:
    """Would VERSION pass the web parity check now? Exit 0 yes, 1 no (with the reasons), 2 bad input."""
    from orchestrator.parity.ranges import InvalidRange, parse_version

    try:
        parse_version(version, "--version")
    except InvalidRange as exc:
        fail(str(exc), 2)
    params = {"version": version, **({"platform": platform} if platform else {})}
    data = _call(_client(url, token).request, "GET", f"/api/projects/{project}/can-i-ship", params=params)
    if as_json:
        emit_json(data)
    else:
        where = f" on {data['platform']}" if data.get("platform") else ""
        click.echo(
            f"{'yes' if data['ok'] else 'no'}: {data['project']} {data['version']}{where} ({data['state']})"
        )
        for reason in data["reasons"]:
            click.echo(f"  {reason}")
        click.echo(f"  policy: {data['policy']}")
    raise SystemExit(0 if data["ok"] else 1)
