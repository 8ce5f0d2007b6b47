"""The default webhook match name of a clone URL."""

from __future__ import annotations

import re

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://([^/]*)", re.IGNORECASE)
_SCP_LIKE = re.compile(r"^[^/@:]+@[^:/]+:")  # git@host:owner/name


def default_match_name(url: str) -> str:
    """The repository name webhooks carry for this clone URL.

    On a server (http(s), ssh, git, scp-like `git@host:path`) it is the URL's whole path without
    `.git`: GitHub's `owner/name`, GitLab's full namespace `group/subgroup/name` (what GitLab sends
    as `path_with_namespace`). For a local repository (`file://` or a plain path) it is the last
    two path segments: `file:///srv/git/acme/shop.git` gives `acme/shop`."""
    text = url.strip()
    scheme = _SCHEME.match(text)
    local = scheme.group(1).lower() == "file" if scheme else _SCP_LIKE.match(text) is None
    path = text[scheme.end() :] if scheme else _SCP_LIKE.sub("", text)
    segments = [s for s in path.replace("\\", "/").split("/") if s]
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
    segments = [s for s in segments if s]
    if len(segments) < 2:
        raise ValueError(f"{url!r} has fewer than two path segments (expected .../OWNER/NAME[.git])")
    return "/".join(segments[-2:] if local else segments)
