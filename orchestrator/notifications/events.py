"""Event names and endpoint filters, pure.

An event is `<subject>.<what>` in lower case (`run.failed`, `release.approved`). An endpoint's
filter is a list of fnmatch patterns over those names (`*`, `run.*`, `release.approved`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

# Published by Instep itself (runs) and by the releases service; listed for help texts and docs.
RUN_EVENTS = ("run.succeeded", "run.failed", "run.canceled", "run.waiting")
RELEASE_EVENTS = (
    "release.gate_waiting",
    "release.approved",
    "release.rejected",
    "release.ready_to_submit",
    "release.submitted",
    "release.store_failed",
    "release.store_state",
    "release.rollout",
    "release.rollout_failed",
    "release.finished",
    "release.partially_finished",
    "release.failed",
    "release.halted",  # web parity: the web rolled back under a release past its gate
)
KNOWN_EVENTS = RUN_EVENTS + RELEASE_EVENTS

_EVENT_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")
_PATTERN_RE = re.compile(r"^[a-z0-9_.*?]+$")


class EventNameError(ValueError):
    """An event name or filter pattern that cannot be right; the message shows the expected form."""


def check_event(event: str) -> None:
    if not _EVENT_RE.match(event):
        raise EventNameError(
            f"event name {event!r} must look like `subject.what` in lower case (e.g. run.failed)"
        )


def check_filter(patterns: Iterable[str]) -> list[str]:
    """The patterns, validated; an empty filter would never match, so it is refused too."""
    result = [p.strip() for p in patterns if p.strip()]
    if not result:
        raise EventNameError(f"an endpoint needs at least one event pattern (e.g. `*` or {RUN_EVENTS[1]})")
    for pattern in result:
        if not _PATTERN_RE.match(pattern):
            raise EventNameError(
                f"event pattern {pattern!r} may hold only lower-case letters, digits, '_', '.', '*' and '?'"
            )
    return result


def matches(patterns: Iterable[str], event: str) -> bool:
    return any(fnmatchcase(event, p) for p in patterns)
