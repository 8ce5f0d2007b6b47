"""The interface every store adapter implements, its typed results, and the one store error."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class ErrorCategory(enum.StrEnum):
    """What the caller can do about a store error."""

    # The store's state disagrees with the action (version code used, another review in progress,
    # phased release not in a state that allows it): read the store, do not resend blindly.
    CONFLICT = "conflict"
    # Try again later, in a new edit if the store needs one (expired edit, 5xx, rate limit, network).
    RETRYABLE = "retryable"
    # A person must act in the store's console or change the plan (first release cannot be staged,
    # build not uploaded yet, changes cannot be sent for review automatically).
    NEEDS_ACTION = "needs_action"
    # The credentials are missing, expired, revoked or lack the permission.
    AUTH = "auth"
    # The request itself is wrong (a bug or a misconfigured project); sending it again will not help.
    INVALID = "invalid"


class StoreError(Exception):
    """A store refused or failed an action. `message` is the store's own text, kept verbatim."""

    def __init__(
        self,
        category: ErrorCategory,
        message: str,
        *,
        store: str,
        action: str,
        status: int | None = None,
        code: str = "",
    ) -> None:
        self.category = category
        self.message = message
        self.store = store
        self.action = action
        self.status = status
        self.code = code
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.store} {self.action}"
        parts = [str(part) for part in (self.status, self.code) if part]
        detail = f" [{' '.join(parts)}]" if parts else ""
        return f"{where} failed ({self.category.value}){detail}: {self.message}"


@dataclass(frozen=True)
class Candidate:
    """One platform's build of a release, as the stores know it."""

    version: str  # marketing version ("1.4.0"): Play versionName, App Store versionString
    build_number: str  # Play version code, App Store build number (CFBundleVersion)
    artifact: Path | None = None  # the AAB for Play; the IPA reaches App Store Connect via fastlane
    release_notes: dict[str, str] = field(default_factory=dict)  # BCP-47 language -> text


class ReviewState(enum.StrEnum):
    NOT_SUBMITTED = "not_submitted"
    WAITING_FOR_REVIEW = "waiting_for_review"
    IN_REVIEW = "in_review"
    APPROVED = "approved"  # passed review, not yet released to users
    REJECTED = "rejected"
    RELEASED = "released"  # available to (some) users


@dataclass(frozen=True)
class Submission:
    """A candidate as submitted to the store: enough to find it again and to show it."""

    store: str
    build_number: str
    review: ReviewState
    store_state: str  # the store's own word for it (releaseLifecycleState, reviewSubmission state)
    submission_id: str = ""  # App Store reviewSubmission id; Play: the committed edit id
    track: str = ""  # Play track


class RolloutState(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    HALTED = "halted"  # Play halted, App Store phased release paused
    COMPLETED = "completed"


@dataclass(frozen=True)
class Rollout:
    store: str
    build_number: str
    state: RolloutState
    store_state: str  # Play track release status, App Store phasedReleaseState
    fraction: float | None = None  # Play userFraction; None when complete or not staged
    day: int | None = None  # App Store phased release day (1..7)


@dataclass(frozen=True)
class TrackRelease:
    """One release on a Play track, as `edits.tracks.get` reports it (reconciliation read)."""

    status: str
    version_codes: tuple[str, ...]
    user_fraction: float | None = None
    name: str = ""


class Store(Protocol):
    """One store behind one interface; every call may raise `StoreError`."""

    name: str

    def submit(self, candidate: Candidate, *, fraction: float | None = None) -> Submission:
        """Upload or select the candidate and submit it for review exactly as asked; `fraction`
        stages the rollout (Play userFraction; App Store: any value asks for a phased release)."""
        ...

    def find_submission(self, candidate: Candidate) -> Submission | None:
        """What the store already has for this candidate, read without changing anything: used to
        confirm an unknown outcome instead of sending again."""
        ...

    def review_state(self, candidate: Candidate) -> Submission:
        """The candidate's current review state (NOT_SUBMITTED when the store has nothing)."""
        ...

    def rollout_state(self, candidate: Candidate) -> Rollout: ...

    def start_rollout(self, candidate: Candidate, *, fraction: float | None = None) -> Rollout:
        """Release the approved candidate to users (Play: inProgress at `fraction`; App Store:
        release request, the phased release then runs by itself)."""
        ...

    def increase_rollout(self, candidate: Candidate, *, fraction: float) -> Rollout: ...

    def halt_rollout(self, candidate: Candidate) -> Rollout: ...

    def resume_rollout(self, candidate: Candidate) -> Rollout: ...

    def complete_rollout(self, candidate: Candidate) -> Rollout: ...
