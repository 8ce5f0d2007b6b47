"""Commit statuses on GitHub and GitLab, pure: a run's state mapped to each provider's states and
the documented request (the token is added by the sender, from the sealed project setting).

GitHub: `POST {api}/repos/{owner}/{repo}/statuses/{sha}` with state pending|success|failure|error.
GitLab: `POST {api}/projects/{id}/statuses/{sha}` with state pending|running|success|failed|canceled."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from orchestrator.notifications.outgoing import Outgoing, outcome_phrase

PROVIDERS = ("github", "gitlab")
DEFAULT_API_URLS = {"github": "https://api.github.com", "gitlab": "https://gitlab.com/api/v4"}
GITHUB_DESCRIPTION_MAX = 140

# Run states that are reported, and what each provider calls them. GitHub has no `canceled`;
# `error` is its state for "did not finish". GitLab refuses to move a status from running back
# to pending, so a run waiting for people stays `running` there (the description says why).
_GITHUB = {
    "running": "pending",
    "waiting": "pending",
    "succeeded": "success",
    "failed": "failure",
    "canceled": "error",
}
_GITLAB = {
    "running": "running",
    "waiting": "running",
    "succeeded": "success",
    "failed": "failed",
    "canceled": "canceled",
}
REPORTED = frozenset(_GITHUB)


class CommitStatusError(ValueError):
    """A commit-status setting that cannot work; the message says which field and what to do."""


def check_repository(provider: str, repository: str) -> str:
    repository = repository.strip().strip("/")
    if provider not in PROVIDERS:
        raise CommitStatusError(f"provider {provider!r} is not one of: {', '.join(PROVIDERS)}")
    if provider == "github" and (repository.count("/") != 1 or "" in repository.split("/")):
        raise CommitStatusError(f"GitHub repository {repository!r} must be OWNER/NAME")
    if not repository:
        raise CommitStatusError("the repository is empty (GitHub: OWNER/NAME; GitLab: GROUP/PROJECT or id)")
    return repository


def provider_state(provider: str, run_status: str) -> str:
    table = _GITHUB if provider == "github" else _GITLAB
    return table[run_status]


def description(run: dict[str, Any]) -> str:
    status = run["status"]
    reason = run.get("reason")
    if status == "running":
        text = f"Instep run #{run['number']} is running"
    else:
        text = f"Instep run #{run['number']} {outcome_phrase(status, reason)}"
    text = " ".join(text.split())
    if len(text) > GITHUB_DESCRIPTION_MAX:
        text = text[: GITHUB_DESCRIPTION_MAX - 1] + "…"
    return text


def branch_of(ref: str) -> str | None:
    if ref.startswith("refs/heads/"):
        return ref[len("refs/heads/") :]
    if ref.startswith("refs/"):
        return None
    return ref or None


def status_request(
    provider: str,
    *,
    api_url: str,
    repository: str,
    token: str,
    run: dict[str, Any],
    context: str,
    target_url: str,
) -> Outgoing:
    """The request that reports `run` (its id, number, status, reason, ref and sha) on the commit."""
    api = api_url.rstrip("/")
    sha = run["sha"]
    state = provider_state(provider, run["status"])
    if provider == "github":
        owner, name = repository.split("/")
        url = f"{api}/repos/{quote(owner, safe='')}/{quote(name, safe='')}/statuses/{sha}"
        body: dict[str, Any] = {
            "state": state,
            "target_url": target_url,
            "description": description(run),
            "context": context,
        }
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
        }
    else:
        url = f"{api}/projects/{quote(repository, safe='')}/statuses/{sha}"
        body = {
            "state": state,
            "name": context,
            "target_url": target_url,
            "description": description(run),
        }
        branch = branch_of(run.get("ref") or "")
        if branch:
            body["ref"] = branch
        headers = {"Accept": "application/json", "PRIVATE-TOKEN": token}
    headers["Content-Type"] = "application/json"
    return Outgoing("POST", url, json.dumps(body, separators=(",", ":")).encode(), headers)
