"""The gate's pure evaluation: facts -> per-platform checklist, property-tested."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.releases.checks import REGISTRY
from orchestrator.releases.facts import ApprovalFact, GateFacts, JobFact, ReleaseFact, ScreenshotFact
from orchestrator.releases.gate import evaluate, evaluate_release
from orchestrator.spec.release import ReleaseSpec

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday
POLICY = ReleaseSpec(approvals={"qa": 1, "release_manager": 1}, four_eyes=True)
CUT = ReleaseFact("4.2.0", "active", "bob", NOW - timedelta(hours=1))
GREEN = (JobFact("unit:ios", "succeeded"), JobFact("build:ios", "succeeded"))
APPROVED = (ApprovalFact("qa", "quinn", "approve"), ApprovalFact("release_manager", "ana", "approve"))


def facts(**changes) -> GateFacts:  # type: ignore[no-untyped-def]
    base = GateFacts(
        platform="ios",
        now=NOW,
        policy=POLICY,
        release=CUT,
        jobs=GREEN,
        approvals=APPROVED,
        pushed_by="carl",
    )
    return replace(base, **changes)


def states(checklist) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {line.check: line.state for line in checklist.lines}


def reasons(checklist) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {line.check: line.reason for line in checklist.lines}


def test_every_check_is_listed_in_order_and_all_pass_for_a_ready_release() -> None:
    checklist = evaluate(facts())
    assert [line.check for line in checklist.lines] == [
        "release_cut",
        "stages",
        "screenshot_reviews",
        "qa_signoff",
        "release_manager_approval",
        "four_eyes",
        "freeze_window",
        "soak_time",
        "web_parity",
        "other_platform",
    ]
    assert checklist.passed and checklist.blocking() is None
    assert reasons(checklist)["release_manager_approval"] == "approved by ana"


def test_without_a_release_the_cut_is_pending() -> None:
    checklist = evaluate(facts(release=None, approvals=()))
    assert states(checklist)["release_cut"] == "pending"
    assert "no release has been cut" in checklist.blocking()  # type: ignore[operator]


def test_an_allowed_failure_is_shown_as_such_and_does_not_block() -> None:
    jobs = (*GREEN, JobFact("lint:ios", "failed", allow_failure=True))
    checklist = evaluate(facts(jobs=jobs))
    assert states(checklist)["stages"] == "passed"
    assert "lint:ios failed (allowed to fail)" in reasons(checklist)["stages"]
    broken = evaluate(facts(jobs=(*GREEN, JobFact("acceptance", "failed", reason="2 tests failed"))))
    assert states(broken)["stages"] == "failed"
    assert reasons(broken)["stages"] == "acceptance failed (2 tests failed)"


def test_screenshots_awaiting_review_keep_the_gate_pending_and_rejections_fail_it() -> None:
    waiting = evaluate(facts(screenshots=(ScreenshotFact("screenshots", 3, 0),)))
    assert states(waiting)["screenshot_reviews"] == "pending"
    assert reasons(waiting)["screenshot_reviews"] == "screenshots: 3 screen(s) await QA review"
    rejected = evaluate(facts(screenshots=(ScreenshotFact("screenshots", 0, 1),)))
    assert states(rejected)["screenshot_reviews"] == "failed"


def test_a_rejection_blocks_until_someone_approves_again() -> None:
    rejected = (*APPROVED, ApprovalFact("release_manager", "dana", "reject", "crash on launch"))
    checklist = evaluate(facts(approvals=rejected))
    assert states(checklist)["release_manager_approval"] == "failed"
    assert (
        reasons(checklist)["release_manager_approval"]
        == "rejected by dana (release manager): crash on launch"
    )
    again = evaluate(facts(approvals=(*rejected, ApprovalFact("release_manager", "dana", "approve"))))
    assert again.passed


def test_four_eyes_ignores_the_authors_own_approval() -> None:
    own = (ApprovalFact("qa", "quinn", "approve"), ApprovalFact("release_manager", "bob", "approve"))
    checklist = evaluate(facts(approvals=own))
    assert states(checklist)["release_manager_approval"] == "pending"
    pusher = (ApprovalFact("qa", "quinn", "approve"), ApprovalFact("release_manager", "carl", "approve"))
    assert states(evaluate(facts(approvals=pusher)))["release_manager_approval"] == "pending"
    override = (
        ApprovalFact("qa", "quinn", "approve"),
        ApprovalFact("release_manager", "bob", "approve", override=True, override_reason="hotfix"),
    )
    assert evaluate(facts(approvals=override)).passed
    relaxed = ReleaseSpec(four_eyes=False)
    assert evaluate(facts(approvals=own, policy=relaxed)).passed


def test_a_freeze_window_holds_the_gate_until_it_ends() -> None:
    friday_evening = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
    policy = ReleaseSpec(freeze=("Fri 16:00-Mon 08:00 Europe/Berlin",))
    held = evaluate(facts(policy=policy, now=friday_evening))
    assert states(held)["freeze_window"] == "pending"
    assert "until 2026-12-07 07:00 UTC" in reasons(held)["freeze_window"]
    monday = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert evaluate(facts(policy=policy, now=monday)).passed
    dates = ReleaseSpec(freeze=("2026-12-20..2027-01-03",))
    assert (
        states(evaluate(facts(policy=dates, now=datetime(2027, 1, 3, 23, 59, tzinfo=UTC))))["freeze_window"]
        == "pending"
    )
    assert evaluate(facts(policy=dates, now=datetime(2027, 1, 4, 0, 0, tzinfo=UTC))).passed


def test_soak_time_counts_from_the_candidate_build() -> None:
    policy = ReleaseSpec(soak=24 * 3600)
    built = NOW - timedelta(hours=20)
    soaking = evaluate(facts(policy=policy, soak_started_at=built))
    assert reasons(soaking)["soak_time"] == "soaking until 2026-12-02 16:00 UTC (needs 1d)"
    assert evaluate(facts(policy=policy, soak_started_at=built, now=NOW + timedelta(hours=4))).passed


def test_platforms_together_wait_for_each_other() -> None:
    together = ReleaseSpec(platforms_together=True)
    ios = facts(policy=together)
    android = facts(policy=together, platform="android", jobs=(JobFact("build:android", "running"),))
    lists = evaluate_release({"ios": ios, "android": android})
    assert states(lists["ios"])["other_platform"] == "pending"
    assert "android: stages green: build:android is running" in reasons(lists["ios"])["other_platform"]
    assert states(lists["android"])["stages"] == "pending"
    done = replace(android, jobs=(JobFact("build:android", "succeeded"),))
    lists = evaluate_release({"ios": ios, "android": done})
    assert lists["ios"].passed and lists["android"].passed
    apart = evaluate_release({"ios": facts(), "android": replace(android, policy=POLICY)})
    assert apart["ios"].passed and not apart["android"].passed


# --- properties -------------------------------------------------------------------------------

job_states = st.sampled_from(["succeeded", "failed", "running", "pending", "skipped", "canceled", "waiting"])
persons = st.sampled_from(["ana", "bob", "carl", "quinn", "dana"])
approvals = st.lists(
    st.builds(
        ApprovalFact,
        role=st.sampled_from(["qa", "release_manager"]),
        person=persons,
        decision=st.sampled_from(["approve", "reject"]),
        override=st.booleans(),
    ),
    max_size=6,
).map(tuple)
jobs = st.lists(
    st.builds(
        JobFact,
        key=st.sampled_from(["unit", "build", "lint", "acceptance"]),
        status=job_states,
        allow_failure=st.booleans(),
    ),
    max_size=4,
).map(tuple)
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC))
policies = st.builds(
    ReleaseSpec,
    approvals=st.fixed_dictionaries({"qa": st.integers(0, 2), "release_manager": st.integers(0, 2)}),
    four_eyes=st.booleans(),
    freeze=st.sampled_from([(), ("Fri 16:00-Mon 08:00 Europe/Berlin",), ("2026-12-20..2027-01-03",)]),
    soak=st.sampled_from([0, 3600, 86400]),
)
any_facts = st.builds(
    facts_builder := (lambda **kw: facts(**kw)),
    jobs=jobs,
    approvals=approvals,
    now=moments,
    policy=policies,
    soak_started_at=st.none() | moments,
    screenshots=st.lists(
        st.builds(ScreenshotFact, st.just("screenshots"), st.integers(0, 2), st.integers(0, 1)), max_size=1
    ).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(any_facts)
def test_the_gate_passes_exactly_when_every_check_passes(f: GateFacts) -> None:
    checklist = evaluate(f)
    assert len(checklist.lines) == len(REGISTRY)
    assert checklist.passed == all(line.state == "passed" for line in checklist.lines)
    assert (checklist.blocking() is None) == checklist.passed
    # Pure: the same facts give the same checklist.
    assert evaluate(f) == checklist


@settings(max_examples=200, deadline=None)
@given(any_facts, st.sampled_from(["qa", "release_manager"]), persons)
def test_a_later_rejection_flips_a_passing_gate_back(f: GateFacts, role: str, person: str) -> None:
    if not evaluate(f).passed or f.policy.required(role) == 0:
        return
    revoked = replace(f, approvals=(*f.approvals, ApprovalFact(role, person, "reject", "no")))
    checklist = evaluate(revoked)
    assert not checklist.passed
    assert states(checklist)["qa_signoff" if role == "qa" else "release_manager_approval"] == "failed"


@settings(max_examples=200, deadline=None)
@given(any_facts, st.sampled_from(["unit", "build", "acceptance"]))
def test_a_newer_failed_job_flips_a_passing_gate_back(f: GateFacts, key: str) -> None:
    if not evaluate(f).passed:
        return
    failed = replace(f, jobs=(*[j for j in f.jobs if j.key != key], JobFact(key, "failed")))
    checklist = evaluate(failed)
    assert not checklist.passed and states(checklist)["stages"] == "failed"
