"""The default webhook match name of a clone URL."""

from __future__ import annotations

import re


def default_match_name(url: str) -> str:
    """`owner/name` from the last two path segments without `.git`:
    https://github.com/acme/shop.git, git@github.com:acme/shop.git and
    file:///srv/git/acme/shop.git all give `acme/shop`."""
    path = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]*", "", url.strip(), flags=re.IGNORECASE)
    path = re.sub(r"^[^/@:]+@[^:/]+:", "", path)  # scp-like git@host:owner/name
    segments = [s for s in path.replace("\\", "/").split("/") if s]
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
    segments = [s for s in segments if s]
    if len(segments) < 2:
        raise ValueError(f"{url!r} has fewer than two path segments (expected .../OWNER/NAME[.git])")
    return f"{segments[-2]}/{segments[-1]}"
