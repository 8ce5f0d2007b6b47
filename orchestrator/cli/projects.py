"""`instep project add|list` and `instep token create`: administration on the server's database."""

from __future__ import annotations

import click

from orchestrator.cli.server import load_settings
from toolrun.cli_output import emit_json, fail, json_option, table


def _database():  # type: ignore[no-untyped-def]
    from orchestrator.db.session import Database, upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    return Database(settings.database_url)


def _parse_secret(value: str) -> tuple[str, str]:
    key, sep, secret = value.partition("=")
    if not sep or not key:
        fail(f"--secret {key or value!r}: expected KEY=VALUE", 2)
    return key, secret


@click.group()
def project() -> None:
    """Register and list app repositories."""


@project.command("add")
@click.argument("name")
@click.option(
    "--repo",
    "repo_url",
    required=True,
    help="Clone URL Instep fetches from (https, ssh or file). Credentials in it "
    "(https://user:token@host/...) are stored sealed and shown as ***.",
)
@click.option(
    "--match",
    "match_name",
    default=None,
    help="Repository name that webhooks carry (default: the URL's path without .git, e.g. "
    "acme/shop or GitLab's group/sub/shop; for file:// and local paths the last two segments).",
)
@click.option("--webhook-secret", default=None, help="Shared webhook secret (default: generated).")
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="KEY=VALUE",
    help="A secret given to jobs as an environment variable and masked in logs. Repeatable.",
)
@click.option("--default-branch", default="main", show_default=True)
@click.option(
    "--web-repo",
    default=None,
    metavar="OWNER/NAME",
    help="The web counterpart's repository: its GitHub deployment statuses record web deployments "
    "(send them with this project's webhook secret).",
)
@json_option
def add(
    name: str,
    repo_url: str,
    match_name: str | None,
    webhook_secret: str | None,
    secrets: tuple[str, ...],
    default_branch: str,
    web_repo: str | None,
    as_json: bool,
) -> None:
    """Register the app repository REPO as project NAME."""
    from orchestrator.projects import ProjectError, create_project, shown_repo_url
    from orchestrator.projects import webhook_secret as reveal
    from orchestrator.sealing import Sealer

    db = _database()
    sealer = Sealer(load_settings().secret_key)
    with db.session() as s:
        try:
            p = create_project(
                s,
                sealer=sealer,
                name=name,
                repo_url=repo_url,
                match_name=match_name,
                webhook_secret=webhook_secret,
                secrets=dict(_parse_secret(v) for v in secrets),
                default_branch=default_branch,
                web_repo=web_repo,
            )
        except ProjectError as exc:
            fail(str(exc), 2)
        s.commit()
        data = {
            "name": p.name,
            "repo_url": shown_repo_url(p),
            "match": p.match_name,
            "webhook_secret": reveal(p, sealer),
            "secret_names": sorted(p.secrets),
            "web_repo": p.web_repo,
        }
    if as_json:
        emit_json(data)
    else:
        click.echo(f"project {data['name']} registered; webhooks from {data['match']} reach it")
        if data["web_repo"]:
            click.echo(f"deployment statuses from {data['web_repo']} record its web deployments")
        click.echo(f"webhook secret (shown once): {data['webhook_secret']}")


@project.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List registered projects."""
    from orchestrator.projects import list_projects, shown_repo_url

    db = _database()
    with db.session() as s:
        rows = [
            {
                "name": p.name,
                "repo_url": shown_repo_url(p),
                "match": p.match_name,
                "default_branch": p.default_branch,
                "secret_names": sorted(p.secrets),
            }
            for p in list_projects(s)
        ]
    if as_json:
        emit_json(rows)
    elif not rows:
        click.echo("no projects yet; add one with `instep project add NAME --repo URL`")
    else:
        table([[r["name"], r["match"], r["repo_url"]] for r in rows], ["NAME", "MATCH", "REPO"])


@click.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["developer", "qa", "release_manager", "admin", "web_deployer"]),
    help="web_deployer may only record web deployments (for the web's CI).",
)
@click.option("--name", default="", help="A label to recognise the token by.")
@json_option
def create(role: str, name: str, as_json: bool) -> None:
    """Create an API token; it is printed once and stored only as a hash."""
    from orchestrator.tokens import create_token

    db = _database()
    with db.session() as s:
        row, clear = create_token(s, role, name)
        s.commit()
        data = {"id": row.id, "name": row.name, "role": row.role, "token": clear}
    if as_json:
        emit_json(data)
    else:
        click.echo(clear)
