"""The ledger's pure rules: which state moves a store action may make, and what an attempt must
do given the row it finds. No database here."""

from __future__ import annotations

from enum import StrEnum

LEDGER_STATES = ("intended", "sent", "confirmed", "failed", "unknown")
FINAL = frozenset({"confirmed", "failed"})


class LedgerMove(Exception):
    """A ledger move the table does not allow."""


def allowed(previous: str, new: str) -> bool:
    match (previous, new):
        case (p, _) if p in FINAL:
            # Confirmed or failed: the store's answer is known; nothing moves it again.
            return False
        case ("intended", "sent"):
            # About to call the store: from here on the outcome may be unknown.
            return True
        case ("intended", "failed"):
            # Refused before anything was sent (no credentials, no candidate).
            return True
        case ("sent", "confirmed" | "failed" | "unknown"):
            # The store answered (or the call died without an answer).
            return True
        case ("unknown", "confirmed" | "failed"):
            # A read of the store (or a release manager) settled it.
            return True
        case ("unknown", "sent"):
            # A read showed the store has nothing: an adapter may send again (never a lane).
            return True
        case _:
            return False


def check(previous: str, new: str) -> None:
    if not allowed(previous, new):
        raise LedgerMove(f"a store action cannot go from {previous} to {new}")


class Next(StrEnum):
    """What a submit attempt does with the ledger row it finds."""

    SEND = "send"  # nothing was sent yet
    RECONCILE = "reconcile"  # sent before with no recorded answer: read the store first
    DONE = "done"  # confirmed already
    FAILED = "failed"  # failed already; the reason stands
    HOLD = "hold"  # a lane with an unknown outcome: a release manager decides


def next_step(state: str, *, lane: bool) -> Next:
    match state:
        case "intended":
            return Next.SEND
        case "confirmed":
            return Next.DONE
        case "failed":
            return Next.FAILED
        case "sent" | "unknown" if lane:
            return Next.HOLD
        case _:
            return Next.RECONCILE
