"""The parity policy as a pure table, and its properties: it never passes without a web
deployment, and a rollback to a web that no longer provides the API flips a passed check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.parity.policy import ShippedRelease, WebDeploymentFact, evaluate, releases_to_halt
from orchestrator.parity.ranges import InvalidRange, in_range, parse_range, parse_version, train_of
from orchestrator.parity.spec import ParitySpec

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def web(
    version: str = "2026.12.1", api: str | None = "2025-11", days_ago: float = 1, **more
) -> WebDeploymentFact:  # type: ignore[no-untyped-def]
    return WebDeploymentFact(
        id=7,
        environment="production",
        version=version,
        api_version=api,
        deployed_at=NOW - timedelta(days=days_ago),
        **more,
    )


API = ParitySpec(requires_api=">=2025-11")
TRAIN = ParitySpec(mode="train")


@pytest.mark.parametrize(
    ("policy", "version", "deployment", "state", "reason"),
    [
        (None, "4.2.0", None, "passed", "no web parity required (instep.yml has no release.parity)"),
        (API, "4.2.0", None, "pending", "no web deployment recorded for production"),
        (API, None, web(), "pending", "checked once a release is cut"),
        (API, "4.2.0", web(), "passed", "production web 2026.12.1 (api 2025-11) provides api >= 2025-11"),
        (
            API,
            "4.2.0",
            web(api="2026-01"),
            "passed",
            "production web 2026.12.1 (api 2026-01) provides api >= 2025-11",
        ),
        (
            API,
            "4.2.0",
            web(api="2025-10", days_ago=3),
            "pending",
            "needs api >= 2025-11, production web 2026.12.1 (api 2025-10) provides api 2025-10 since 3 days",
        ),
        (
            API,
            "4.2.0",
            web(api=None),
            "pending",
            "needs api >= 2025-11, production web 2026.12.1 records no api version",
        ),
        (
            ParitySpec(requires_contracts={"orders": ">=3"}),
            "4.2.0",
            web(contracts={"orders": "v3"}),
            "passed",
            "production web 2026.12.1 (api 2025-11) contract orders v3",
        ),
        (
            ParitySpec(requires_contracts={"orders": ">=3"}),
            "4.2.0",
            web(contracts={"orders": "v2"}),
            "pending",
            "needs contract orders >=3, production web 2026.12.1 (api 2025-11) has orders v2",
        ),
        (
            ParitySpec(requires_contracts={"orders": ">=3"}),
            "4.2.0",
            web(contracts={"orders": "9f86d081884c"}),
            "pending",
            "needs contract orders >=3, production web 2026.12.1 (api 2025-11) has orders 9f86d081884c",
        ),
        (
            ParitySpec(requires_contracts={"orders": "9f86d081884c"}),
            "4.2.0",
            web(contracts={"orders": "9F86D081884C"}),
            "passed",
            "production web 2026.12.1 (api 2025-11) contract orders 9F86D081884C",
        ),
        (
            ParitySpec(requires_features=("new_checkout",)),
            "4.2.0",
            web(features=("dark_mode",)),
            "pending",
            "needs feature(s) new_checkout, not in production web 2026.12.1 (api 2025-11)",
        ),
        (
            TRAIN,
            "4.2.0",
            web("4.2.3"),
            "passed",
            "production web 4.2.3 (api 2025-11) is on train 4.2, the train of 4.2.0",
        ),
        (
            TRAIN,
            "4.2.0",
            web("4.1.9", days_ago=3),
            "pending",
            "needs web release train 4.2, production has 4.1 since 3 days",
        ),
        (
            TRAIN,
            "4.2.0",
            web("4.3.0", days_ago=2),
            "failed",
            "production web 4.3.0 (api 2025-11) is on train 4.3 since 2 days, past train 4.2 of 4.2.0 "
            "(set release.parity.max_lag to let a release trail the web)",
        ),
        (
            ParitySpec(mode="train", max_lag=14 * 86400),
            "4.2.0",
            web("4.3.0", days_ago=2),
            "passed",
            "production web 4.3.0 (api 2025-11) is on train 4.3; 4.2.0 (train 4.2) trails it by 2 days (max_lag 14d)",
        ),
        (
            ParitySpec(mode="train", max_lag=14 * 86400),
            "4.2.0",
            web("4.3.0", days_ago=20),
            "failed",
            "production web 4.3.0 (api 2025-11) is on train 4.3 since 20 days; train 4.2 of 4.2.0 trails it by "
            "more than max_lag 14d",
        ),
        (
            ParitySpec(mode="train", train="{major}"),
            "2026.12.0",
            web("2026.1.0"),
            "passed",
            "production web 2026.1.0 (api 2025-11) is on train 2026, the train of 2026.12.0",
        ),
    ],
)
def test_parity_table(policy, version, deployment, state, reason) -> None:  # type: ignore[no-untyped-def]
    verdict = evaluate(policy, version, deployment, NOW)
    assert (verdict.state, verdict.reason) == (state, reason)
    assert verdict.deployment_id == (
        deployment.id if deployment is not None and policy is not None and version else None
    )


def test_api_mode_max_lag_fails_a_release_the_web_moved_past_long_ago() -> None:
    policy = ParitySpec(requires_api=">=2025-11", max_lag=14 * 86400)
    cut = NOW - timedelta(days=30)
    recent = evaluate(policy, "4.2.0", web(days_ago=3), NOW, cut_at=cut)
    old = evaluate(policy, "4.2.0", web(days_ago=20), NOW, cut_at=cut)
    assert recent.state == "passed"
    assert old.state == "failed" and "by 20 days (more than max_lag 14d)" in old.reason


def test_calver_and_dated_api_versions_compare_as_versions() -> None:
    assert parse_version("2026.12.1") > parse_version("2026.9.30")
    assert parse_version("2025-11") == parse_version("2025.11") < parse_version("2026-01")
    assert in_range("2026.12.1", ">=2026.10,<2027") and not in_range("2027.1.0", ">=2026.10,<2027")
    assert in_range("v3", ">=3") and not in_range("2.9", ">=3")
    assert train_of("4.2.0", "{major}.{minor}") == "4.2" and train_of("5", "{major}.{minor}") == "5.0"
    with pytest.raises(InvalidRange, match="is not a version"):
        parse_version("next-tuesday")
    with pytest.raises(InvalidRange, match="is not a version range"):
        parse_range(">= 1 2")


# Properties -----------------------------------------------------------------------------------

dated = st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(2020, 2030), st.integers(1, 12))
semver = st.builds(lambda a, b, c: f"{a}.{b}.{c}", st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))
policies = st.builds(
    ParitySpec,
    mode=st.sampled_from(["api", "train"]),
    requires_api=st.one_of(st.none(), dated.map(lambda d: f">={d}")),
    requires_contracts=st.dictionaries(
        st.sampled_from(["orders", "payments"]), st.sampled_from([">=1", ">=3", "<5"]), max_size=2
    ),
    requires_features=st.lists(st.sampled_from(["a", "b"]), unique=True).map(tuple),
    max_lag=st.one_of(st.none(), st.integers(0, 30 * 86400)),
)


@given(policy=policies, version=semver)
def test_never_passes_without_a_web_deployment(policy: ParitySpec, version: str) -> None:
    assert evaluate(policy, version, None, NOW).state == "pending"
    assert evaluate(policy, version, None, NOW).reason == "no web deployment recorded for production"


@given(required=dated, provided=dated, older=dated, version=semver)
def test_a_rollback_to_a_web_without_the_api_flips_a_passed_check(
    required: str, provided: str, older: str, version: str
) -> None:
    policy = ParitySpec(requires_api=f">={required}")
    before = evaluate(policy, version, web(api=provided), NOW)
    after = evaluate(policy, version, web(version="2026.11.0", api=older), NOW)
    if before.passed and parse_version(older) < parse_version(required):
        assert not after.passed
        shipped = ShippedRelease(1, version, "android", "rolling_out", policy, NOW - timedelta(days=2))
        [halt] = releases_to_halt(
            (shipped,), web(version="2026.11.0", api=older), "production", NOW, "2026.11.0"
        )
        assert halt.reason == "halted: web rolled back to 2026.11.0"
    assert after.passed == (parse_version(older) >= parse_version(required))


@given(policy=policies, version=semver, deployed=semver, api=dated)
def test_iOS_and_android_get_the_same_answer_from_the_same_deployment(policy, version, deployed, api) -> None:  # type: ignore[no-untyped-def]
    one = evaluate(policy, version, web(deployed, api), NOW)
    assert one == evaluate(policy, version, web(deployed, api), NOW)
    assert one.deployment_id == 7


def test_halts_skip_releases_already_halted_for_the_web_and_other_environments() -> None:
    policy = ParitySpec(requires_api=">=2025-11")
    staging = ParitySpec(environment="staging", requires_api=">=2025-11")
    rolled_back_to = web(version="2026.11.0", api="2025-10")
    shipped = (
        ShippedRelease(1, "4.2.0", "android", "rolling_out", policy, NOW),
        ShippedRelease(1, "4.2.0", "ios", "in_review", policy, NOW, halted_for_web=True),
        ShippedRelease(2, "4.1.0", "ios", "rolling_out", staging, NOW),
        ShippedRelease(3, "4.0.0", "ios", "rolling_out", ParitySpec(requires_api=">=2025-01"), NOW),
    )
    halts = releases_to_halt(shipped, rolled_back_to, "production", NOW, "2026.11.0")
    assert [(h.release_id, h.platform, h.reason) for h in halts] == [
        (1, "android", "halted: web rolled back to 2026.11.0")
    ]
