import os
import signal
import subprocess
import sys
import time

import pytest

from device_farm.clock import PollTimeout, SystemClock, poll
from device_farm.leases import (
    InMemoryLeaseStore,
    LeaseExpired,
    NoDeviceAvailable,
    RedisLeaseStore,
    acquire_any,
)
from tests.conftest import REDIS_URL
from tests.device_farm.conftest import FakeClock


@pytest.fixture(params=["memory", "redis"])
def store(request, clock):
    if request.param == "memory":
        return InMemoryLeaseStore(clock)
    client, prefix = request.getfixturevalue("redis_client")
    return RedisLeaseStore(client, prefix)


def test_a_slot_is_leased_exclusively_until_released(store):
    first = store.acquire("pixel-8", 1, "job-1", ttl_s=30)
    assert first is not None
    assert store.acquire("pixel-8", 1, "job-2", ttl_s=30) is None
    assert [lease.holder for lease in store.leases()] == ["job-1"]
    store.release(first)
    second = store.acquire("pixel-8", 1, "job-2", ttl_s=30)
    assert second is not None and second.holder == "job-2"


def test_a_device_with_several_slots_gives_one_lease_per_slot(store):
    leases = [store.acquire("iphone-15", 2, f"job-{i}", ttl_s=30) for i in range(3)]
    assert [lease.slot if lease else None for lease in leases] == [0, 1, None]


def test_two_failed_health_checks_quarantine_the_device_with_the_reason(store):
    assert store.record_health("pixel-8", False, "adb: device offline") is None
    q = store.record_health("pixel-8", False, "adb: device offline")
    assert q is not None and q.reason == "adb: device offline"
    assert [x.device for x in store.quarantined()] == ["pixel-8"]
    assert store.acquire("pixel-8", 1, "job", ttl_s=30) is None
    store.release_quarantine("pixel-8")
    assert store.acquire("pixel-8", 1, "job", ttl_s=30) is not None


def test_a_passing_check_resets_the_failure_count(store):
    store.record_health("pixel-8", False, "slow")
    store.record_health("pixel-8", True)
    assert store.record_health("pixel-8", False, "slow") is None
    assert store.quarantined() == []


def test_in_memory_lease_expires_without_heartbeat_and_the_device_returns(clock):
    store = InMemoryLeaseStore(clock)
    lease = store.acquire("pixel-8", 1, "job-1", ttl_s=10)
    clock.sleep(6)
    store.heartbeat(lease)
    clock.sleep(6)
    assert store.acquire("pixel-8", 1, "job-2", ttl_s=10) is None  # heartbeat kept it
    clock.sleep(5)
    taken = store.acquire("pixel-8", 1, "job-2", ttl_s=10)
    assert taken is not None
    with pytest.raises(LeaseExpired, match="expired"):
        store.heartbeat(lease)
    store.release(lease)  # releasing a lost lease must not free the new holder's slot
    assert store.leases() == [taken]


def test_waiting_for_a_busy_device_gives_up_with_a_clear_message(clock):
    store = InMemoryLeaseStore(clock)
    store.acquire("pixel-8", 1, "job-1", ttl_s=1000)
    with pytest.raises(NoDeviceAvailable, match="no free device among pixel-8 after waiting 30 s"):
        acquire_any(store, [("pixel-8", 1)], "job-2", 60, wait_s=30, clock=clock)


def test_redis_lease_of_a_killed_holder_expires_and_the_device_returns(redis_client):
    client, prefix = redis_client
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time, redis\n"
            "from device_farm.leases import RedisLeaseStore\n"
            f"s = RedisLeaseStore(redis.Redis.from_url({REDIS_URL!r}), {prefix!r})\n"
            "lease = s.acquire('pixel-8', 1, 'dying-job', ttl_s=0.5)\n"
            "print('leased' if lease else 'busy', flush=True)\n"
            "while True:\n    s.heartbeat(lease); time.sleep(0.1)\n"
        )],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "leased"
    store = RedisLeaseStore(client, prefix)
    assert store.acquire("pixel-8", 1, "next-job", ttl_s=5) is None
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    killed_at = time.monotonic()
    lease = poll(
        lambda: store.acquire("pixel-8", 1, "next-job", ttl_s=5),
        timeout=5,
        interval=0.05,
        clock=SystemClock(),
    )
    assert lease.holder == "next-job"
    assert time.monotonic() - killed_at < 2


def test_poll_raises_at_the_deadline_without_waiting():
    clock = FakeClock()
    with pytest.raises(PollTimeout):
        poll(lambda: None, timeout=600, interval=1, clock=clock)
    assert clock.now == pytest.approx(1_600)
