"""Release states, pure: which per-platform moves are legal, and the release's state as a whole.

A platform goes `preparing` (cut, the run has not reached its gate) -> `waiting_for_gate` ->
`ready_to_submit` (the gate passed; the submit job is released) -> `submitting` -> `submitted`
-> `in_review` -> `approved_by_store` | `rejected_by_store`; an approved build goes
`rolling_out` (<-> `halted`) -> `released`. `canceled` and `failed` end it from anywhere live."""

from __future__ import annotations

from collections.abc import Iterable

PLATFORM_STATES = (
    "preparing",
    "waiting_for_gate",
    "ready_to_submit",
    "submitting",
    "submitted",
    "in_review",
    "approved_by_store",
    "rejected_by_store",
    "rolling_out",
    "halted",
    "released",
    "canceled",
    "failed",
)
FINAL_PLATFORM = frozenset({"released", "rejected_by_store", "canceled", "failed"})
# Before submission a release can still be canceled or superseded without asking a store.
BEFORE_SUBMISSION = frozenset({"preparing", "waiting_for_gate", "ready_to_submit"})


class InvalidReleaseMove(Exception):
    """A release platform state change the table does not allow."""


def allowed(previous: str, new: str) -> bool:
    """Whether a release platform may go from `previous` to `new`."""
    match (previous, new):
        case (p, _) if p in FINAL_PLATFORM:
            # Shipped, refused by the store, canceled or failed: nothing moves it again.
            return False
        case (_, "canceled" | "failed"):
            # A person cancels, or a job/store error ends it, from any live state.
            return True
        case ("preparing", "waiting_for_gate"):
            # The run's gate job started waiting on this platform.
            return True
        case ("waiting_for_gate", "ready_to_submit"):
            # Every gate check passed; the submit job is released (exactly once).
            return True
        case ("ready_to_submit", "submitting"):
            # The submit job picked the candidate up.
            return True
        case ("submitting", "submitted"):
            # The store (or the team's lane) accepted the submission.
            return True
        case ("submitted", "in_review"):
            # The store started its review.
            return True
        case ("in_review", "approved_by_store" | "rejected_by_store"):
            # The store's reviewers decided.
            return True
        case ("approved_by_store", "rolling_out"):
            # A staged rollout (or phased release) began.
            return True
        case ("approved_by_store" | "rolling_out" | "halted", "released"):
            # Released to everyone: at once, at the end of the rollout, or completed while halted.
            return True
        case ("rolling_out", "halted") | ("halted", "rolling_out"):
            # A release manager (or a web rollback) halts; a release manager resumes.
            return True
        case _:
            return False


def check_move(subject: str, previous: str, new: str) -> None:
    if not allowed(previous, new):
        raise InvalidReleaseMove(f"release {subject}: cannot go from {previous} to {new}")


def release_state(platform_states: Iterable[str]) -> str:
    """The release as a whole: `finished` when every platform shipped, `partially_finished` when
    some shipped and the rest ended otherwise, `canceled` when all were canceled, `failed` when
    all ended without shipping, else `active`."""
    states = list(platform_states)
    if not states or any(s not in FINAL_PLATFORM for s in states):
        return "active"
    released = sum(s == "released" for s in states)
    if released == len(states):
        return "finished"
    if released:
        return "partially_finished"
    if all(s == "canceled" for s in states):
        return "canceled"
    return "failed"
