"""`instep hook install`: a post-receive hook that notifies Instep from a self-hosted bare repo."""

from __future__ import annotations

import os
from pathlib import Path

import click

from orchestrator.cli.output import fail


def render_hook(url: str, repository: str, secret: str) -> str:
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("orchestrator.webhooks", "templates"), autoescape=False,
                      keep_trailing_newline=True)
    return env.get_template("post-receive.py.j2").render(
        url=url.rstrip("/") + "/api/webhooks/git", repository=repository, secret=secret
    )


@click.group()
def hook() -> None:
    """Git hooks for self-hosted repositories."""


@hook.command()
@click.argument("bare_repo", type=click.Path(path_type=Path, file_okay=False))
@click.option("--url", required=True, help="Instep's base URL, e.g. https://instep.example.")
@click.option("--secret", default=None, help="The project's webhook secret.")
@click.option("--secret-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Read the webhook secret from this file instead.")
@click.option("--repository", default=None, help="OWNER/NAME to send (default: from the repo path).")
@click.option("--force", is_flag=True, help="Replace an existing post-receive hook.")
def install(bare_repo: Path, url: str, secret: str | None, secret_file: Path | None, repository: str | None,
            force: bool) -> None:
    """Install a post-receive hook in BARE_REPO that sends a signed notice to Instep for every
    pushed ref. The hook file holds the secret and is created with mode 0700."""
    from orchestrator.webhooks import default_match_name

    if not all((bare_repo / p).exists() for p in ("HEAD", "objects", "refs")):
        fail(f"{bare_repo} is not a bare git repository (no HEAD, objects and refs)", 2)
    if secret_file is not None:
        secret = secret_file.read_text().strip()
    if not secret:
        fail("give the project's webhook secret with --secret or --secret-file", 2)
    if not url.startswith(("http://", "https://")):
        fail(f"--url {url!r} is not an http(s) URL", 2)
    try:
        name = repository or default_match_name(str(bare_repo.resolve()))
    except ValueError as exc:
        fail(f"{exc}; pass --repository OWNER/NAME", 2)
    target = bare_repo / "hooks" / "post-receive"
    if target.exists() and not force:
        fail(f"{target} already exists; pass --force to replace it", 2)
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_suffix(".instep-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
    with os.fdopen(fd, "w") as f:
        f.write(render_hook(url, name, secret))
    os.chmod(tmp, 0o700)
    tmp.replace(target)
    click.echo(f"installed {target}: pushes notify {url.rstrip('/')}/api/webhooks/git as {name}")
