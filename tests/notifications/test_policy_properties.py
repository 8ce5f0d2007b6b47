"""Properties of the allow policy and the retry schedule."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.notifications.policy import check_addresses, refusal
from orchestrator.notifications.sender import RetryPolicy

ipv4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


@given(ipv4)
def test_an_ipv4_address_is_judged_the_same_inside_ipv6(v4: ipaddress.IPv4Address) -> None:
    plain = refusal(v4)
    for v6 in (
        ipaddress.IPv6Address(f"::ffff:{v4}"),  # IPv4-mapped
        ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80)),  # 6to4
        ipaddress.IPv6Address(f"64:ff9b::{v4}"),  # NAT64
    ):
        carried = refusal(v6)
        assert (carried is None) == (plain is None)
        if plain is not None:
            assert carried == f"{plain} (carried in {v6})"


@given(st.lists(ipv4, min_size=1, max_size=5))
def test_a_name_passes_only_when_every_address_passes(addresses: list[ipaddress.IPv4Address]) -> None:
    everyone_ok = all(refusal(a) is None for a in addresses)
    try:
        check_addresses("h.example", [str(a) for a in addresses], allow_private=False)
        passed = True
    except Exception:
        passed = False
    assert passed == everyone_ok
    check_addresses("h.example", [str(a) for a in addresses], allow_private=True)


@given(st.integers(1, 10_000))
def test_retry_delays_grow_and_stay_bounded(attempts: int) -> None:
    policy = RetryPolicy()
    assert policy.first_delay <= policy.delay_after(attempts) <= policy.max_delay
    assert policy.delay_after(attempts + 1) >= policy.delay_after(attempts)
    assert RetryPolicy().delay_after(3) == timedelta(seconds=40)
