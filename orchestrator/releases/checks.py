"""The gate's checks: one pure function per check, registered by name in the order the checklist
shows them. A check sees only `GateFacts` (no clock, no database); web parity will be one more
`@check("web_parity", ...)` entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from orchestrator.parity import policy as parity_policy
from orchestrator.releases.facts import ApprovalFact, CheckState, GateFacts

ROLE_TITLES = {"qa": "QA", "release_manager": "release manager"}


@dataclass(frozen=True)
class CheckResult:
    state: CheckState
    reason: str


def passed(reason: str) -> CheckResult:
    return CheckResult("passed", reason)


def failed(reason: str) -> CheckResult:
    return CheckResult("failed", reason)


def pending(reason: str) -> CheckResult:
    return CheckResult("pending", reason)


CheckFn = Callable[[GateFacts], CheckResult]


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    run: CheckFn


REGISTRY: dict[str, Check] = {}


def check(name: str, title: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check under `name`; the checklist lists checks in registration order."""

    def add(fn: CheckFn) -> CheckFn:
        if name in REGISTRY:
            raise ValueError(f"gate check {name!r} is registered twice")
        REGISTRY[name] = Check(name, title, fn)
        return fn

    return add


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _span(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return "".join(parts) or "0m"


@check("release_cut", "release cut")
def release_cut(f: GateFacts) -> CheckResult:
    if f.release is None:
        return pending("no release has been cut from this run yet (`instep release create --run ...`)")
    r = f.release
    if r.state in ("canceled", "superseded", "failed"):
        return failed(f"release {r.version} was {r.state}" + (f": {r.reason}" if r.reason else ""))
    return passed(f"release {r.version} cut by {r.cut_by} at {_when(r.cut_at)}")


@check("stages", "stages green")
def stages_green(f: GateFacts) -> CheckResult:
    broken = [j for j in f.jobs if j.status in ("failed", "canceled", "skipped") and not j.allow_failure]
    if broken:
        return failed(
            "; ".join(f"{j.key} {j.status}" + (f" ({j.reason})" if j.reason else "") for j in broken)
        )
    live = [j for j in f.jobs if j.status not in ("succeeded", "failed", "canceled", "skipped")]
    if live:
        return pending(", ".join(f"{j.key} is {j.status}" for j in live))
    allowed = [j.key for j in f.jobs if j.status != "succeeded"]
    green = len(f.jobs) - len(allowed)
    text = f"{green} job(s) succeeded"
    if allowed:
        text += "; " + ", ".join(f"{k} failed (allowed to fail)" for k in allowed)
    return passed(text if f.jobs else "the gate needs no other stage")


@check("screenshot_reviews", "screenshot reviews complete")
def screenshot_reviews(f: GateFacts) -> CheckResult:
    rejected = [s for s in f.screenshots if s.rejected]
    if rejected:
        return failed(", ".join(f"{s.key}: {s.rejected} screen(s) rejected by QA" for s in rejected))
    waiting = [s for s in f.screenshots if s.unreviewed]
    if waiting:
        return pending(", ".join(f"{s.key}: {s.unreviewed} screen(s) await QA review" for s in waiting))
    if not f.screenshots:
        return passed("no screenshot stage in this pipeline")
    return passed("every changed screen was reviewed")


@dataclass(frozen=True)
class RoleStanding:
    """Who currently approves in a role, or the rejection that blocks it."""

    approvers: tuple[ApprovalFact, ...]
    rejection: ApprovalFact | None


def standing(approvals: tuple[ApprovalFact, ...], role: str) -> RoleStanding:
    """A rejection clears the approvals before it and blocks until someone approves again; the
    same person approving twice counts once."""
    approvers: dict[str, ApprovalFact] = {}
    rejection: ApprovalFact | None = None
    for a in approvals:
        if a.role != role:
            continue
        if a.decision == "reject":
            approvers.clear()
            rejection = a
        else:
            approvers[a.person] = a
            rejection = None
    return RoleStanding(tuple(approvers.values()), rejection)


def authors(f: GateFacts) -> set[str]:
    return {p for p in ((f.release.cut_by if f.release else None), f.pushed_by) if p}


def counted(f: GateFacts, role: str) -> tuple[tuple[ApprovalFact, ...], RoleStanding]:
    """Approvals that count in `role`: with four eyes, not those of the release's author
    (unless an admin overrode with a reason)."""
    stand = standing(f.approvals, role)
    mine = authors(f) if f.policy.four_eyes else set()
    return tuple(a for a in stand.approvers if a.override or a.person not in mine), stand


def _approval(f: GateFacts, role: str) -> CheckResult:
    needed = f.policy.required(role)
    title = ROLE_TITLES[role]
    if needed == 0:
        return passed(f"no {title} approval required")
    ok, stand = counted(f, role)
    if stand.rejection is not None:
        r = stand.rejection
        return failed(f"rejected by {r.person} ({title})" + (f": {r.comment}" if r.comment else ""))
    names = ", ".join(a.person + (" (admin override)" if a.override else "") for a in ok)
    if len(ok) >= needed:
        return passed(f"approved by {names}")
    have = f" (so far: {names})" if names else ""
    return pending(f"waiting for {title} approval: {len(ok)} of {needed}{have}")


@check("qa_signoff", "QA sign-off")
def qa_signoff(f: GateFacts) -> CheckResult:
    return _approval(f, "qa")


@check("release_manager_approval", "release-manager approval")
def release_manager_approval(f: GateFacts) -> CheckResult:
    return _approval(f, "release_manager")


@check("four_eyes", "four eyes")
def four_eyes(f: GateFacts) -> CheckResult:
    if not f.policy.four_eyes:
        return passed("not required by the release policy")
    mine = authors(f)
    who = ", ".join(sorted(mine)) or "unknown"
    approvers = [a for role in ("qa", "release_manager") for a in counted(f, role)[0]]
    if not approvers:
        return pending(f"waiting for an approval by someone other than the author ({who})")
    others = sorted({a.person for a in approvers if a.person not in mine})
    overrides = sorted({a.person for a in approvers if a.override and a.person in mine})
    if overrides and not others:
        return passed(f"overridden by {', '.join(overrides)} (admin)")
    return passed(f"approved by {', '.join(others)}, not the author ({who})")


@check("freeze_window", "freeze window")
def freeze_window(f: GateFacts) -> CheckResult:
    active = [w for w in f.policy.freeze_windows() if w.active(f.now)]
    if active:
        until = max(w.ends_after(f.now) for w in active)
        return pending(f"release freeze {', '.join(repr(w.text) for w in active)} until {_when(until)}")
    if not f.policy.freeze:
        return passed("no freeze windows")
    return passed("outside every freeze window")


@check("soak_time", "soak time")
def soak_time(f: GateFacts) -> CheckResult:
    if f.policy.soak == 0:
        return passed("no soak time required")
    start = f.soak_started_at or (f.release.cut_at if f.release else None)
    if start is None:
        return pending("soak time starts when the candidate is built")
    ready = start + timedelta(seconds=f.policy.soak)
    if f.now >= ready:
        return passed(f"soaked {_span(f.now - start)} (needs {_span(timedelta(seconds=f.policy.soak))})")
    # No countdown in the reason: a checklist that changes every minute would be kept every minute.
    return pending(f"soaking until {_when(ready)} (needs {_span(timedelta(seconds=f.policy.soak))})")


@check("web_parity", "web parity")
def web_parity(f: GateFacts) -> CheckResult:
    """The release against the web deployed in `release.parity.environment` (the rules are
    `orchestrator.parity.policy`); never passed without a recorded deployment."""
    r = f.release
    verdict = parity_policy.evaluate(
        f.policy.parity, r.version if r else None, f.web, f.now, r.cut_at if r else None
    )
    return CheckResult(verdict.state, verdict.reason)


@check("other_platform", "other platform ready")
def other_platform(f: GateFacts) -> CheckResult:
    if not f.policy.platforms_together:
        return passed("platforms ship independently")
    if not f.others_ready:
        return passed("the only platform of this release")
    waiting = {p: why for p, why in f.others_ready.items() if why is not None}
    if waiting:
        return pending("; ".join(f"{p}: {why}" for p, why in sorted(waiting.items())))
    return passed(", ".join(sorted(f.others_ready)) + " ready too")
