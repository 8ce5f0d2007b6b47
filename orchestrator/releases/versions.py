"""Release version strings, pure: SemVer 2.0.0 or CalVer (YYYY.MM[.DD|.MICRO], YY.MM.MICRO)."""

from __future__ import annotations

import re

# The regular expression published with SemVer 2.0.0 (semver.org), without a leading "v".
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\Z"
)
_CALVER = re.compile(
    r"(?P<year>\d{4}|\d{2})\.(?P<month>0?[1-9]|1[0-2])(?:\.(?P<micro>0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?\Z"
)
EXAMPLES = {"semver": "4.2.0 or 4.2.0-rc.1", "calver": "2026.12.1 or 26.12.3"}


class InvalidVersion(ValueError):
    """A version that does not parse in the project's scheme; the message shows examples."""


def check_version(version: str, scheme: str) -> str:
    """The version if it parses in `scheme` (semver | calver), else InvalidVersion."""
    pattern = _SEMVER if scheme == "semver" else _CALVER
    m = pattern.match(version)
    if m is None or (scheme == "calver" and len(m["year"]) == 2 and m["micro"] is None):
        raise InvalidVersion(
            f"version {version!r} is not {'SemVer' if scheme == 'semver' else 'CalVer'} "
            f"(expected something like {EXAMPLES[scheme]}; the scheme is `release.version_scheme` "
            "in instep.yml)"
        )
    return version


def version_from_tag(tag: str, scheme: str) -> str:
    """The version a tag names: `v4.2.0` and `release-4.2.0` give 4.2.0."""
    m = re.search(r"\d", tag)
    candidate = tag[m.start() :] if m else tag
    return check_version(candidate, scheme)
