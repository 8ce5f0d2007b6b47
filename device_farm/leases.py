"""Leases: exclusive, time-limited use of one device slot by one job, kept alive by heartbeats;
and device health, where a second consecutive failed health check quarantines the device.

Two stores share one protocol: in-process (embedded mode) and Redis (distributed mode). A lease
is a key with a time to live, so a holder that dies without releasing simply lets it expire."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from device_farm.clock import Clock, SystemClock

# Consecutive failed health checks after which a device is quarantined.
QUARANTINE_AFTER_FAILURES = 2


class LeaseError(Exception):
    """Base class for lease problems."""


class LeaseExpired(LeaseError):
    def __init__(self, lease: Lease) -> None:
        super().__init__(
            f"lease {lease.lease_id} on device {lease.device} (slot {lease.slot}) expired or was "
            "taken over: its holder stopped heart-beating for longer than the lease time"
        )
        self.lease = lease


class NoDeviceAvailable(LeaseError):
    pass


@dataclass(frozen=True)
class Lease:
    lease_id: str
    device: str
    slot: int
    holder: str
    acquired_at: float
    ttl_s: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Lease:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class Quarantine:
    device: str
    reason: str
    since: float


class LeaseStore(Protocol):
    def acquire(self, device: str, slots: int, holder: str, ttl_s: float) -> Lease | None:
        """Take a free slot of `device` for `ttl_s` seconds, or return None when all are taken or
        the device is quarantined."""
        ...

    def heartbeat(self, lease: Lease) -> None:
        """Extend the lease by its ttl; raises LeaseExpired when it is no longer held."""
        ...

    def release(self, lease: Lease) -> None:
        """Give the slot back; a no-op when the lease already expired."""
        ...

    def leases(self) -> list[Lease]: ...

    def record_health(self, device: str, ok: bool, reason: str = "") -> Quarantine | None:
        """Count consecutive failed checks; the second one quarantines the device with `reason`."""
        ...

    def quarantined(self) -> list[Quarantine]: ...

    def release_quarantine(self, device: str) -> None: ...


def acquire_any(
    store: LeaseStore,
    devices: Sequence[tuple[str, int]],
    holder: str,
    ttl_s: float,
    *,
    wait_s: float,
    clock: Clock,
    interval: float = 0.2,
) -> Lease:
    """Lease the first free slot among `devices` ((device, slots) pairs), waiting up to `wait_s`."""
    deadline = clock.monotonic() + wait_s
    while True:
        for device, slots in devices:
            lease = store.acquire(device, slots, holder, ttl_s)
            if lease is not None:
                return lease
        if clock.monotonic() >= deadline:
            names = ", ".join(d for d, _ in devices)
            quarantined = {q.device: q.reason for q in store.quarantined()}
            detail = "; ".join(f"{d} is quarantined: {r}" for d, r in quarantined.items() if d in names)
            raise NoDeviceAvailable(
                f"no free device among {names} after waiting {wait_s:.0f} s"
                + (f" ({detail})" if detail else "")
                + "; see `instep farm devices`"
            )
        clock.sleep(interval)


class InMemoryLeaseStore:
    """Leases for one process (embedded mode); thread-safe; expiry measured on the injected clock."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._leases: dict[tuple[str, int], tuple[Lease, float]] = {}
        self._failures: dict[str, int] = {}
        self._quarantine: dict[str, Quarantine] = {}

    def _expire(self) -> None:
        now = self._clock.monotonic()
        for key in [k for k, (_, exp) in self._leases.items() if exp <= now]:
            del self._leases[key]

    def acquire(self, device: str, slots: int, holder: str, ttl_s: float) -> Lease | None:
        with self._lock:
            self._expire()
            if device in self._quarantine:
                return None
            for slot in range(slots):
                if (device, slot) not in self._leases:
                    lease = Lease(uuid.uuid4().hex, device, slot, holder, self._clock.time(), ttl_s)
                    self._leases[(device, slot)] = (lease, self._clock.monotonic() + ttl_s)
                    return lease
            return None

    def heartbeat(self, lease: Lease) -> None:
        with self._lock:
            self._expire()
            held = self._leases.get((lease.device, lease.slot))
            if held is None or held[0].lease_id != lease.lease_id:
                raise LeaseExpired(lease)
            self._leases[(lease.device, lease.slot)] = (held[0], self._clock.monotonic() + lease.ttl_s)

    def release(self, lease: Lease) -> None:
        with self._lock:
            held = self._leases.get((lease.device, lease.slot))
            if held is not None and held[0].lease_id == lease.lease_id:
                del self._leases[(lease.device, lease.slot)]

    def leases(self) -> list[Lease]:
        with self._lock:
            self._expire()
            return sorted((lease for lease, _ in self._leases.values()), key=lambda x: (x.device, x.slot))

    def record_health(self, device: str, ok: bool, reason: str = "") -> Quarantine | None:
        with self._lock:
            if ok:
                self._failures.pop(device, None)
                return None
            self._failures[device] = self._failures.get(device, 0) + 1
            if self._failures[device] >= QUARANTINE_AFTER_FAILURES:
                q = Quarantine(device, reason, self._clock.time())
                self._quarantine[device] = q
                return q
            return None

    def quarantined(self) -> list[Quarantine]:
        with self._lock:
            return sorted(self._quarantine.values(), key=lambda q: q.device)

    def release_quarantine(self, device: str) -> None:
        with self._lock:
            self._quarantine.pop(device, None)
            self._failures.pop(device, None)


# Extend only if the stored value is still ours (another holder may have taken an expired slot).
_HEARTBEAT = """
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v)['lease_id'] == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v)['lease_id'] == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLeaseStore:
    """Leases shared by all workers (distributed mode): `SET NX PX` per slot, Lua compare-and-act
    for heartbeat and release, a hash for quarantine. `prefix` namespaces every key."""

    def __init__(self, client: Any, prefix: str = "instep:farm", clock: Clock | None = None) -> None:
        self._r = client
        self._prefix = prefix
        self._clock = clock or SystemClock()
        self._heartbeat: Callable[..., Any] = client.register_script(_HEARTBEAT)
        self._release: Callable[..., Any] = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, prefix: str = "instep:farm") -> RedisLeaseStore:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5), prefix)

    def _key(self, device: str, slot: int) -> str:
        return f"{self._prefix}:lease:{device}:{slot}"

    def acquire(self, device: str, slots: int, holder: str, ttl_s: float) -> Lease | None:
        if self._r.hexists(f"{self._prefix}:quarantine", device):
            return None
        for slot in range(slots):
            lease = Lease(uuid.uuid4().hex, device, slot, holder, self._clock.time(), ttl_s)
            if self._r.set(self._key(device, slot), lease.to_json(), nx=True, px=int(ttl_s * 1000)):
                return lease
        return None

    def heartbeat(self, lease: Lease) -> None:
        extended = self._heartbeat(
            keys=[self._key(lease.device, lease.slot)], args=[lease.lease_id, int(lease.ttl_s * 1000)]
        )
        if not extended:
            raise LeaseExpired(lease)

    def release(self, lease: Lease) -> None:
        self._release(keys=[self._key(lease.device, lease.slot)], args=[lease.lease_id])

    def leases(self) -> list[Lease]:
        keys = sorted(self._r.scan_iter(match=f"{self._prefix}:lease:*", count=500))
        values = self._r.mget(keys) if keys else []
        found = [Lease.from_json(v) for v in values if v is not None]
        return sorted(found, key=lambda x: (x.device, x.slot))

    def record_health(self, device: str, ok: bool, reason: str = "") -> Quarantine | None:
        counter = f"{self._prefix}:health:{device}"
        if ok:
            self._r.delete(counter)
            return None
        failures = int(self._r.incr(counter))
        if failures >= QUARANTINE_AFTER_FAILURES:
            q = Quarantine(device, reason, self._clock.time())
            self._r.hset(f"{self._prefix}:quarantine", device, json.dumps(asdict(q)))
            return q
        return None

    def quarantined(self) -> list[Quarantine]:
        raw = self._r.hgetall(f"{self._prefix}:quarantine")
        return sorted((Quarantine(**json.loads(v)) for v in raw.values()), key=lambda q: q.device)

    def release_quarantine(self, device: str) -> None:
        self._r.hdel(f"{self._prefix}:quarantine", device)
        self._r.delete(f"{self._prefix}:health:{device}")


class Heartbeat:
    """Keeps a lease alive from a background thread until stopped; records the first failure."""

    def __init__(self, store: LeaseStore, lease: Lease, every_s: float) -> None:
        self._store, self._lease, self._every = store, lease, every_s
        self._stop = threading.Event()
        self.lost: LeaseExpired | None = None
        self._thread = threading.Thread(target=self._run, name=f"lease-{lease.device}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._store.heartbeat(self._lease)
            except LeaseExpired as exc:
                self.lost = exc
                return

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
