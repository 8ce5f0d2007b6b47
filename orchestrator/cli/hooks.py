"""`instep hook install`: a post-receive hook that notifies Instep from a self-hosted bare repo."""

from __future__ import annotations

import os
from pathlib import Path

import click

from toolrun.cli_output import fail


def render_hook(url: str, repository: str, secret: str) -> str:
    """The post-receive script's text: a stand-alone Python 3 program with the values embedded."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("orchestrator.webhooks", "templates"),
        autoescape=False,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    # repr() gives valid Python string literals whatever the characters in the values.
    return env.get_template("post-receive.py.j2").render(
        url=repr(notice_url(url)), repository=repr(repository), secret=repr(secret)
    )


def notice_url(url: str) -> str:
    return url.rstrip("/") + "/api/webhooks/git"


def is_bare_repository(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


@click.group()
def hook() -> None:
    """Git hooks for self-hosted repositories."""


@hook.command()
@click.argument("bare_repo", type=click.Path(path_type=Path, file_okay=False))
@click.option("--url", required=True, help="Instep's base URL, e.g. https://instep.example.")
@click.option("--secret", default=None, help="The project's webhook secret (see `instep project add`).")
@click.option(
    "--secret-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Read the webhook secret from this file instead of the command line.",
)
@click.option(
    "--repository",
    default=None,
    metavar="OWNER/NAME",
    help="Repository name to send; must equal the project's --match (default: the last two "
    "path segments of BARE_REPO without .git).",
)
@click.option("--force", is_flag=True, help="Replace an existing post-receive hook.")
def install(
    bare_repo: Path,
    url: str,
    secret: str | None,
    secret_file: Path | None,
    repository: str | None,
    force: bool,
) -> None:
    """Install a post-receive hook in BARE_REPO that sends a signed notice to INSTEP_URL/api/webhooks/git
    for every pushed ref and prints the answer to the pusher; it never fails a push.

    The hook embeds the secret, so it is written with mode 0700 (readable by the git user only)."""
    from orchestrator.webhooks import default_match_name

    if not is_bare_repository(bare_repo):
        fail(f"{bare_repo} is not a bare git repository (expected HEAD, objects/ and refs/ in it)", 2)
    if secret is not None and secret_file is not None:
        fail("give the webhook secret with --secret or --secret-file, not both", 2)
    if secret_file is not None:
        secret = secret_file.read_text().strip()
        if not secret:
            fail(f"--secret-file {secret_file} is empty", 2)
    if not secret:
        fail("give the project's webhook secret with --secret or --secret-file", 2)
    if not url.startswith(("http://", "https://")):
        fail(f"--url {url!r} is not an http(s) URL (expected e.g. https://instep.example)", 2)
    try:
        name = repository or default_match_name(str(bare_repo.resolve()))
    except ValueError as exc:
        fail(f"{exc}; pass --repository OWNER/NAME", 2)
    target = bare_repo / "hooks" / "post-receive"
    if (target.exists() or target.is_symlink()) and not force:
        fail(f"{target} already exists; pass --force to replace it", 2)
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_name(f".post-receive.instep-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(render_hook(url, name, secret))
        os.chmod(tmp, 0o700)  # whatever the umask
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    click.echo(f"installed {target}: pushes notify {notice_url(url)} as {name}")
