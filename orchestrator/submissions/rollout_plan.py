"""The rollout plan, pure: the next stage of a Play staged rollout and whether it is due."""

from __future__ import annotations

from datetime import datetime, timedelta

from orchestrator.spec.release import RolloutPlan


def first_fraction(plan: RolloutPlan | None) -> float | None:
    """The fraction a submission starts at (None: a full release)."""
    if plan is None or plan.stages[0] >= 100:
        return None
    return plan.stages[0] / 100


def next_fraction(plan: RolloutPlan, current: float | None) -> float | None:
    """The plan's next stage above `current` as a fraction (1.0 completes); None past the end."""
    now = (current or 0.0) * 100
    for stage in plan.stages:
        if stage > now + 1e-9:
            return stage / 100
    return None


def advance_due(
    plan: RolloutPlan | None,
    *,
    rollout: str | None,
    fraction: float | None,
    changed_at: datetime | None,
    now: datetime,
) -> float | None:
    """The fraction an automatic advance moves to now, or None. Only a rollout in progress moves:
    never a halted or paused one, never one Instep has not started, never with `every: 0`."""
    if plan is None or plan.every <= 0 or rollout != "in_progress" or fraction is None or changed_at is None:
        return None
    if now < changed_at + timedelta(seconds=plan.every):
        return None
    return next_fraction(plan, fraction)


def percent(fraction: float | None) -> str:
    return "100%" if fraction is None else f"{fraction * 100:g}%"
