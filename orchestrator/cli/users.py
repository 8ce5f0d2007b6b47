"""`instep user add|passwd|list`: dashboard accounts on the server's database."""

from __future__ import annotations

import sys

import click

from orchestrator.cli.server import load_settings
from toolrun.cli_output import emit_json, fail, json_option, table

ROLE_CHOICE = click.Choice(["qa", "developer", "release_manager", "admin"])


def _database():  # type: ignore[no-untyped-def]
    from orchestrator.db.session import Database, upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    return Database(settings.database_url)


def _password(from_stdin: bool) -> str:
    """One line from standard input, or asked twice on the terminal (never echoed)."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("--password-stdin: standard input is empty; pipe the password as one line", 2)
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def user() -> None:
    """People who sign in to the dashboard."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=ROLE_CHOICE, help="What the person may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password as one line from standard input.")
@json_option
def add(name: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """Create the account NAME with a password (asked for, or read with --password-stdin)."""
    from orchestrator.users import UserError, check_name, create_user

    try:
        check_name(name)
    except UserError as exc:
        fail(str(exc), 2)
    password = _password(password_stdin)
    db = _database()
    with db.session() as s:
        try:
            row = create_user(s, name, role, password)
        except UserError as exc:
            fail(str(exc), 2)
        s.commit()
        data = {"id": row.id, "name": row.name, "role": row.role}
    if as_json:
        emit_json(data)
    else:
        click.echo(f"user {name} ({role}) added; they sign in at {load_settings().url}/login")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password as one line from standard input.")
def passwd(name: str, password_stdin: bool) -> None:
    """Set a new password for NAME; their open sessions end."""
    from orchestrator.users import UserError, get_user, set_password

    db = _database()
    with db.session() as s:
        try:
            get_user(s, name)
        except UserError as exc:
            fail(str(exc), 2)
    password = _password(password_stdin)
    with db.session() as s:
        try:
            set_password(s, name, password)
        except UserError as exc:
            fail(str(exc), 2)
        s.commit()
    click.echo(f"password of {name} changed; their open sessions have ended")


@user.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List dashboard accounts and their roles."""
    from orchestrator.users import list_users

    db = _database()
    with db.session() as s:
        rows = [{"name": u.name, "role": u.role, "created_at": u.created_at} for u in list_users(s)]
    if as_json:
        emit_json(rows)
    elif not rows:
        click.echo("no users yet; add one with `instep user add NAME --role qa`")
    else:
        table([[r["name"], r["role"], str(r["created_at"])[:19]] for r in rows], ["NAME", "ROLE", "CREATED"])
