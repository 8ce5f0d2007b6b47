"""Credentials inside clone URLs (`https://x-access-token:TOKEN@host/o/r.git`): finding them,
showing the URL without them, and handing them to git without writing them to disk or putting
them on a command line. Pure string work; `projects` seals, `workspaces` runs git."""

from __future__ import annotations

import base64
import re
from urllib.parse import unquote

REDACTED = "***"
_AUTHORITY = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*://)(?:(?P<userinfo>[^/?#]*)@)?(?P<host>[^/?#]*)(?P<path>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_HTTP = ("http://", "https://")


def credentials_in(url: str) -> str | None:
    """The credential part of a clone URL (`user:token` of `https://user:token@host/o/r.git`),
    or None. Any user part of an http(s) URL counts (a token is often sent as the user name);
    in other schemes only `user:password` does (`ssh://git@host/...` names no secret)."""
    match = _AUTHORITY.match(url.strip())
    if match is None or not match.group("userinfo"):
        return None
    userinfo = match.group("userinfo")
    if match.group("scheme").lower() in _HTTP or ":" in userinfo:
        return userinfo
    return None


def redacted_url(url: str) -> str:
    """The URL with its credential part replaced by `***`: `https://***@host/o/r.git`."""
    match = _AUTHORITY.match(url.strip())
    if match is None or credentials_in(url) is None:
        return url.strip()
    return f"{match.group('scheme')}{REDACTED}@{match.group('host')}{match.group('path')}"


def public_url(url: str) -> str:
    """The URL without its credential part (what git is given and what it records). Outside
    http(s) the user name stays (`ssh://git:pw@host/x` gives `ssh://git@host/x`)."""
    match = _AUTHORITY.match(url.strip())
    userinfo = credentials_in(url)
    if match is None or userinfo is None:
        return url.strip()
    user = "" if match.group("scheme").lower() in _HTTP else userinfo.partition(":")[0] + "@"
    return f"{match.group('scheme')}{user}{match.group('host')}{match.group('path')}"


def git_credential_config(url: str) -> dict[str, str]:
    """Environment for git that sends an http(s) URL's credentials as a Basic authorization header
    scoped to its host (`http.<scheme://host/>.extraHeader` through GIT_CONFIG_COUNT), so they are
    never in git's arguments (visible in `ps`) nor in the mirror's config (on disk). Empty when
    the URL carries no credentials or is not http(s) (ssh takes no password from a URL)."""
    match = _AUTHORITY.match(url.strip())
    userinfo = credentials_in(url)
    if match is None or userinfo is None or match.group("scheme").lower() not in _HTTP:
        return {}
    user, _, password = userinfo.partition(":")
    basic = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
    scope = f"{match.group('scheme').lower()}{match.group('host')}/"
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{scope}.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


def scrub(text: str, url: str) -> str:
    """`text` (git's error output) with the URL's credentials, raw and percent-decoded, masked."""
    userinfo = credentials_in(url)
    if userinfo is None:
        return text
    for secret in {userinfo, unquote(userinfo), *(unquote(p) for p in userinfo.split(":") if len(p) >= 4)}:
        text = text.replace(secret, REDACTED)
    return text
