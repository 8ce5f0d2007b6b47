"""Projects: registration, lookup by webhook match name, secrets.

A clone URL with credentials in it is stored twice: redacted in `repo_url` (what every reader
is shown: `https://***@host/o/r.git`) and whole, sealed, in `repo_url_sealed`; only
`clone_url` opens it, for git."""

from __future__ import annotations

import re
import secrets as secrets_module

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from orchestrator.clone_urls import credentials_in, redacted_url
from orchestrator.db.models import Project
from orchestrator.sealing import Sealer
from toolrun.redaction import SecretTooShort, check_secret

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SECRET_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MAX_MATCH_CHARS = 300
WEB_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ProjectError(Exception):
    """Bad project input or a conflict; the message says which field."""


class ProjectNotFound(ProjectError):
    pass


class ProjectExists(ProjectError):
    pass


def default_match_name(url: str) -> str:
    """The repository name webhooks carry for a clone URL: its path without `.git` (GitHub
    `owner/name`, GitLab `group/sub/name`), or the last two segments for a local repository."""
    from orchestrator.webhooks import default_match_name as from_url

    return from_url(url)


def create_project(
    session: Session,
    *,
    sealer: Sealer,
    name: str,
    repo_url: str,
    match_name: str | None = None,
    webhook_secret: str | None = None,
    secrets: dict[str, str] | None = None,
    default_branch: str = "main",
    web_repo: str | None = None,
) -> Project:
    if not NAME_RE.match(name):
        raise ProjectError(f"project name {name!r} must be 1-100 letters, digits, '.', '_' or '-'")
    repo_url = repo_url.strip()
    if not repo_url:
        raise ProjectError("repo URL is empty")
    shown = redacted_url(repo_url)
    if _CONTROL.search(repo_url) or (match_name is not None and _CONTROL.search(match_name)):
        raise ProjectError(
            f"--repo {shown!r} / --match must not contain control characters (a newline, a tab...)"
        )
    try:
        match = match_name or default_match_name(repo_url)
    except ValueError:
        raise ProjectError(
            f"cannot derive --match from {shown!r}: it has fewer than two path segments; "
            "pass --match OWNER/NAME"
        ) from None
    if len(match) > MAX_MATCH_CHARS or not match.strip():
        raise ProjectError(f"--match must be 1-{MAX_MATCH_CHARS} characters")
    for key, value in (secrets or {}).items():
        check_secret_key(key, value)
    web_repo = check_web_repo(web_repo)
    project = Project(
        name=name,
        repo_url=shown,
        repo_url_sealed=sealer.seal(repo_url) if credentials_in(repo_url) else None,
        match_name=match,
        webhook_secret=sealer.seal(webhook_secret or secrets_module.token_urlsafe(32)),
        secrets={k: sealer.seal(v) for k, v in (secrets or {}).items()},
        default_branch=default_branch,
        web_repo=web_repo,
    )
    session.add(project)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise ProjectExists(f"a project named {name!r} already exists") from exc
    return project


def check_secret_key(key: str, value: str | None = None) -> None:
    """A secret's name must be an environment variable name, and its value long enough for the
    logs to mask it (see toolrun.redaction)."""
    if not SECRET_KEY_RE.match(key):
        raise ProjectError(
            f"secret name {key!r} must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
        )
    if value is not None:
        try:
            check_secret(key, value)
        except SecretTooShort as exc:
            raise ProjectError(str(exc)) from None


def get_project(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise ProjectNotFound(f"no project named {name!r}")
    return project


def find_by_match_name(session: Session, repository: str) -> Project | None:
    return session.scalar(select(Project).where(Project.match_name == repository).order_by(Project.id))


def find_by_web_repo(session: Session, repository: str) -> Project | None:
    """The project whose web counterpart is `repository` (its deployment statuses are web deployments)."""
    return session.scalar(select(Project).where(Project.web_repo == repository).order_by(Project.id))


def check_web_repo(web_repo: str | None) -> str | None:
    """`OWNER/NAME` (GitLab-style `group/sub/name` too), as webhooks carry it."""
    if web_repo is None or not web_repo.strip():
        return None
    value = web_repo.strip().removesuffix(".git")
    if len(value) > MAX_MATCH_CHARS or not WEB_REPO_RE.match(value):
        raise ProjectError(f"--web-repo {web_repo!r} must be OWNER/NAME, e.g. acme/shop-web")
    return value


def clone_url(project: Project, sealer: Sealer) -> str:
    """The URL git clones from, with its credentials if it has any (for workers only)."""
    return sealer.open(project.repo_url_sealed) if project.repo_url_sealed else project.repo_url


def shown_repo_url(project: Project) -> str:
    """The URL every reader is shown (redacted even for rows stored before 0008 sealed them)."""
    return redacted_url(project.repo_url)


def webhook_secret(project: Project, sealer: Sealer) -> str:
    return sealer.open(project.webhook_secret)


def job_secrets(project: Project, sealer: Sealer) -> dict[str, str]:
    """The clear secrets a job gets as environment variables (and its log masks)."""
    return {k: sealer.open(str(v)) for k, v in project.secrets.items()}


def list_projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.name)))


def update_secrets(
    session: Session, project: Project, set_: dict[str, str], unset: list[str], *, sealer: Sealer
) -> Project:
    for key, value in set_.items():
        check_secret_key(key, value)
    merged = {k: v for k, v in project.secrets.items() if k not in unset}
    merged.update({k: sealer.seal(v) for k, v in set_.items()})
    project.secrets = merged
    session.flush()
    return project
