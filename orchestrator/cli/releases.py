"""`instep release create|list|show|approve|reject|cancel|audit`: releases over the REST API."""

from __future__ import annotations

from typing import Any

import click

from orchestrator.cli.runs import _call, _client, with_connection
from toolrun.cli_output import emit_json, json_option, table

MARKS = {"passed": "ok", "failed": "FAILED", "pending": "..."}


@click.group()
def release() -> None:
    """Cut releases from runs, approve or reject them, and read their gate and audit trail."""


def print_release(data: dict[str, Any]) -> None:
    click.echo(
        f"release {data['id']}: {data['project']} {data['version']} from run {data['run_id']}: {data['state']}"
        + (f" ({data['reason']})" if data.get("reason") else "")
    )
    for p in data["platforms"]:
        build = f" build {p['build_number']}" if p.get("build_number") is not None else ""
        click.echo(
            f"\n{p['platform']}{build}: {p['state']}" + (f" ({p['reason']})" if p.get("reason") else "")
        )
        for artifact in p.get("candidate") or []:
            click.echo(f"  candidate {artifact['name']}  sha256 {artifact['sha256'][:16]}")
        if p.get("store"):
            click.echo(f"  store: {store_line(p['store'])}")
        if p.get("checklist"):
            click.echo(f"  gate: {p['gate']}")
            for line in p["checklist"]:
                click.echo(f"  [{MARKS[line['state']]:>6}] {line['title']}: {line['reason']}")
    approvals = data.get("approvals") or []
    if approvals:
        click.echo("\napprovals:")
        for a in approvals:
            flag = f" OVERRIDE ({a['override_reason']})" if a["override"] else ""
            comment = f": {a['comment']}" if a["comment"] else ""
            click.echo(f"  {a['at'][:19]}  {a['person']} ({a['role']}) {a['decision']}{flag}{comment}")


def store_line(store: dict[str, Any]) -> str:
    """The store's last word on a platform, in one line."""
    parts = [store["store"], f"review {store['review']}" if store.get("review") else ""]
    if store.get("rollout"):
        share = "" if store.get("fraction") is None else f" at {store['fraction'] * 100:g}%"
        day = f" day {store['day']}" if store.get("day") else ""
        parts.append(f"rollout {store['rollout']}{share}{day}")
    if store.get("store_state"):
        parts.append(f"({store['store_state']})")
    if store.get("error"):
        parts.append(f"last read failed: {store['error']}")
    return " ".join(part for part in parts if part)


@release.command("create")
@click.option("--project", required=True)
@click.option(
    "--run", "run_id", required=True, type=int, help="The run to release (its pipeline has a gate)."
)
@click.option(
    "--version", "version", required=True, help="SemVer (4.2.0) or CalVer, as the project's policy says."
)
@with_connection
@json_option
def create(
    project: str, run_id: int, version: str, url: str | None, token: str | None, as_json: bool
) -> None:
    """Cut VERSION from a run (role release_manager); prints the gate checklist."""
    body = {"project": project, "run_id": run_id, "version": version}
    data = _call(_client(url, token).request, "POST", "/api/releases", json=body)
    emit_json(data) if as_json else print_release(data)


@release.command("list")
@click.option("--project", default=None)
@click.option(
    "--state", default=None, help="active, finished, partially_finished, canceled, superseded, failed"
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200))
@with_connection
@json_option
def list_(
    project: str | None, state: str | None, limit: int, url: str | None, token: str | None, as_json: bool
) -> None:
    """List releases, newest first."""
    params = {k: v for k, v in {"project": project, "state": state, "limit": limit}.items() if v is not None}
    data = _call(_client(url, token).request, "GET", "/api/releases", params=params)
    if as_json:
        emit_json(data)
        return
    rows = [
        [
            str(r["id"]),
            r["project"],
            r["version"],
            str(r["run_id"]),
            r["state"],
            ", ".join(f"{p['platform']}:{p['state']}" for p in r["platforms"]),
        ]
        for r in data["releases"]
    ]
    table(rows, ["ID", "PROJECT", "VERSION", "RUN", "STATE", "PLATFORMS"])


@release.command()
@click.argument("release_id", type=int)
@with_connection
@json_option
def show(release_id: int, url: str | None, token: str | None, as_json: bool) -> None:
    """Show a release with each platform's gate checklist and the approvals."""
    data = _call(_client(url, token).request, "GET", f"/api/releases/{release_id}")
    emit_json(data) if as_json else print_release(data)


def _decision(name: str, help_text: str):  # type: ignore[no-untyped-def]
    @release.command(name, help=help_text)
    @click.argument("release_id", type=int)
    @click.option("--comment", "-m", default="", help="Why (required to reject).")
    @click.option(
        "--as", "role", type=click.Choice(["qa", "release_manager"]), default=None, help="The role to act in."
    )
    @click.option("--override-reason", default=None, help="An admin acting in a role must say why (audited).")
    @with_connection
    @json_option
    def command(
        release_id: int,
        comment: str,
        role: str | None,
        override_reason: str | None,
        url: str | None,
        token: str | None,
        as_json: bool,
    ) -> None:
        body = {"comment": comment, "role": role, "override_reason": override_reason}
        data = _call(_client(url, token).request, "POST", f"/api/releases/{release_id}/{name}", json=body)
        emit_json(data) if as_json else print_release(data)

    return command


approve = _decision("approve", "Approve a release: QA signs off (role qa), a release manager approves.")
reject = _decision("reject", "Reject a release with a comment; its gate stays closed until a new approval.")


@release.command()
@click.argument("release_id", type=int)
@click.option("--reason", default="", help="Why the release is canceled (audited).")
@with_connection
@json_option
def cancel(release_id: int, reason: str, url: str | None, token: str | None, as_json: bool) -> None:
    """Cancel a release before any store has it (role release_manager)."""
    data = _call(
        _client(url, token).request, "POST", f"/api/releases/{release_id}/cancel", json={"reason": reason}
    )
    emit_json(data) if as_json else print_release(data)


@release.command()
@click.argument("release_id", type=int)
@with_connection
@json_option
def audit(release_id: int, url: str | None, token: str | None, as_json: bool) -> None:
    """Everything anyone did to the release, oldest first."""
    data = _call(_client(url, token).request, "GET", f"/api/releases/{release_id}/audit")
    if as_json:
        emit_json(data)
        return
    table(
        [[e["at"][:19], e["person"], e["role"], e["action"], e["subject"]] for e in data],
        ["AT", "PERSON", "ROLE", "ACTION", "SUBJECT"],
    )


def _rollout_call(
    release_id: int, verb: str, body: dict[str, Any], url: str | None, token: str | None, as_json: bool
) -> None:
    data = _call(_client(url, token).request, "POST", f"/api/releases/{release_id}/{verb}", json=body)
    emit_json(data) if as_json else print_release(data["release"])


PLATFORM = click.option(
    "--platform",
    type=click.Choice(["android", "ios"]),
    default=None,
    help="Default: every platform it applies to.",
)


@release.command()
@click.argument("release_id", type=int)
@click.option(
    "--to", "to", required=True, type=click.FloatRange(0, 100, min_open=True), help="Percent of users."
)
@PLATFORM
@with_connection
@json_option
def rollout(
    release_id: int, to: float, platform: str | None, url: str | None, token: str | None, as_json: bool
) -> None:
    """Move the Google Play staged rollout to --to percent (100 completes it); role release_manager."""
    _rollout_call(release_id, "rollout", {"to": to, "platform": platform}, url, token, as_json)


def _rollout_verb(name: str, help_text: str):  # type: ignore[no-untyped-def]
    @release.command(name, help=help_text)
    @click.argument("release_id", type=int)
    @PLATFORM
    @with_connection
    @json_option
    def command(
        release_id: int, platform: str | None, url: str | None, token: str | None, as_json: bool
    ) -> None:
        _rollout_call(release_id, name, {"platform": platform}, url, token, as_json)

    return command


halt = _rollout_verb(
    "halt", "Halt the Play rollout / pause the App Store phased release (role release_manager)."
)
resume = _rollout_verb("resume", "Resume a halted rollout at its last fraction / resume the phased release.")
complete = _rollout_verb(
    "complete", "Release to every user: Play completed, App Store phased release COMPLETE."
)


@release.command()
@click.argument("release_id", type=int)
@click.option("--platform", required=True, type=click.Choice(["android", "ios"]))
@click.option("--outcome", required=True, type=click.Choice(["submitted", "failed"]))
@click.option("--comment", "-m", required=True, help="What the store shows (audited).")
@with_connection
@json_option
def settle(
    release_id: int,
    platform: str,
    outcome: str,
    comment: str,
    url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Settle a submission whose outcome is unknown, after checking the store (role release_manager)."""
    body = {"outcome": outcome, "comment": comment}
    data = _call(
        _client(url, token).request,
        "POST",
        f"/api/releases/{release_id}/submissions/{platform}/settle",
        json=body,
    )
    emit_json(data) if as_json else print_release(data["release"])
