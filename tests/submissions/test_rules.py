"""The pure rules: ledger moves, what an attempt does with the row it finds, the rollout plan,
and which refs' releases get the store credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.job_environment import (
    STORE_CREDENTIALS,
    job_env,
    protected_refs,
    release_may_use_store_credentials,
)
from orchestrator.spec.release import ReleaseSpec, RolloutPlan
from orchestrator.submissions.ledger import FINAL, LEDGER_STATES, LedgerMove, Next, allowed, check, next_step
from orchestrator.submissions.rollout_plan import advance_due, first_fraction, next_fraction

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@given(st.sampled_from(sorted(FINAL)), st.sampled_from(LEDGER_STATES))
def test_nothing_moves_a_known_outcome(final: str, new: str) -> None:
    assert not allowed(final, new)


def test_the_ledger_moves_only_forward_and_an_unknown_outcome_is_read_before_anything_is_sent() -> None:
    check("intended", "sent")
    check("sent", "unknown")
    check("unknown", "confirmed")
    with pytest.raises(LedgerMove, match="cannot go from intended to confirmed"):
        check("intended", "confirmed")
    assert next_step("intended", lane=False) is Next.SEND
    assert next_step("sent", lane=False) is Next.RECONCILE
    assert next_step("unknown", lane=False) is Next.RECONCILE
    assert next_step("confirmed", lane=True) is Next.DONE
    # A submission lane whose outcome is unknown is never run again by itself.
    assert next_step("sent", lane=True) is Next.HOLD
    assert next_step("unknown", lane=True) is Next.HOLD


def test_the_plan_advances_only_a_rollout_in_progress_once_its_time_is_up() -> None:
    plan = RolloutPlan(stages=(1, 5, 20, 50, 100), every=86400)
    assert first_fraction(plan) == 0.01 and first_fraction(None) is None
    assert (
        next_fraction(plan, 0.05) == 0.2
        and next_fraction(plan, 0.5) == 1.0
        and next_fraction(plan, 1.0) is None
    )
    changed = NOW - timedelta(hours=25)
    assert advance_due(plan, rollout="in_progress", fraction=0.01, changed_at=changed, now=NOW) == 0.05
    assert (
        advance_due(plan, rollout="in_progress", fraction=0.01, changed_at=NOW - timedelta(hours=23), now=NOW)
        is None
    )
    # Halted (Play) or paused (App Store): the plan never moves it.
    assert advance_due(plan, rollout="halted", fraction=0.2, changed_at=changed, now=NOW) is None
    assert (
        advance_due(RolloutPlan(every=0), rollout="in_progress", fraction=0.01, changed_at=changed, now=NOW)
        is None
    )


@given(
    st.lists(st.integers(1, 100), min_size=1, max_size=8, unique=True).map(sorted),
    st.floats(0, 1),
    st.sampled_from(["in_progress", "halted", "completed", "not_started", None]),
)
def test_an_automatic_advance_only_goes_up_and_only_while_in_progress(stages, fraction, rollout) -> None:  # type: ignore[no-untyped-def]
    plan = RolloutPlan(stages=tuple(stages), every=3600)
    moved = advance_due(plan, rollout=rollout, fraction=fraction, changed_at=NOW - timedelta(days=1), now=NOW)
    if moved is not None:
        assert (
            rollout == "in_progress" and moved > fraction and any(abs(moved * 100 - s) < 1e-9 for s in stages)
        )


def test_store_credentials_follow_protected_refs() -> None:
    default = protected_refs("main", (), ("v*",))
    assert default == ("refs/heads/main", "refs/tags/v*")
    assert release_may_use_store_credentials("refs/heads/main", default)
    assert release_may_use_store_credentials("refs/tags/v1.2.0", default)
    assert not release_may_use_store_credentials("refs/heads/feature/x", default)
    assert not release_may_use_store_credentials("refs/tags/nightly", default)
    named = protected_refs("main", ("refs/heads/release/*",), ("v*",))
    assert release_may_use_store_credentials("refs/heads/release/4.2", named)
    assert not release_may_use_store_credentials("refs/heads/main", named)


def test_no_job_gets_store_credentials_from_its_environment_policy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from orchestrator.jobspec import JobPlan
    from orchestrator.stages import JobWork

    plan = JobPlan.model_validate(
        {
            "key": "build:android",
            "stage": "build",
            "kind": "build",
            "platform": "android",
            "timeout_s": 60,
            "spec": {"lane": "build"},
        }
    )
    secrets = {name: f"canary-{name.lower()}-0123456789" for name in STORE_CREDENTIALS} | {
        "API_TOKEN": "other-secret-0123"
    }
    work = JobWork(1, 1, 1, 1, plan, 1, "shop", "file:///x", secrets, "refs/heads/main", "a" * 40)
    env = job_env(work, tmp_path, tmp_path / "a", {"PATH": "/bin"})
    assert env["API_TOKEN"] == "other-secret-0123"
    assert not STORE_CREDENTIALS & set(env) and not any("canary" in v for v in env.values())


def test_the_release_section_takes_store_rollout_and_protected_refs() -> None:
    spec = ReleaseSpec.model_validate(
        {
            "protected_refs": ["refs/heads/main"],
            "store": {
                "google_play": {"package_name": "dev.instep.sample"},
                "app_store": {"app_id": "1"},
                "base_url": "http://127.0.0.1:9/",
            },
            "rollout": {"stages": [1, 20, 100], "every": "12h"},
        }
    )
    assert spec.store is not None and spec.store.base_url == "http://127.0.0.1:9"
    assert spec.store.google_play is not None and spec.store.google_play.track == "production"
    assert spec.rollout == RolloutPlan(stages=(1.0, 20.0, 100.0), every=43200)
    with pytest.raises(ValueError, match="must go up"):
        ReleaseSpec.model_validate({"rollout": {"stages": [20, 5]}})


def test_a_service_account_key_printed_with_its_escapes_decoded_is_masked_line_by_line() -> None:
    import json

    from toolrun.redaction import Redactor

    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nAASCBKcwggSjAgEAAoIBAQC7VJTU\n-----END PRIVATE KEY-----\n"
    account = json.dumps(
        {"type": "service_account", "private_key": key, "client_email": "ci@shop.iam.gserviceaccount.com"}
    )
    # What `echo $PLAY_SERVICE_ACCOUNT_JSON` prints in dash: the JSON's \n become new lines.
    printed = account.replace("\\n", "\n")
    shown = Redactor([account])(printed)
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEF" not in shown and "AASCBKcwggSjAgEAAoIBAQC7VJTU" not in shown
    assert "ci@shop.iam.gserviceaccount.com" not in shown
    assert Redactor([account])(f"key {account}") == "key ***"
