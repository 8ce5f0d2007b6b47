"""Doubles for the device-farm tests: a clock that never waits, a command runner that records
command lines and replays recorded output, and a real-Redis fixture with a unique key prefix."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from device_farm.commands import CommandOutput
from tests.conftest import REDIS_URL, require_service

FIXTURES = Path(__file__).parent / "fixtures"


def recorded(name: str) -> str:
    return (FIXTURES / name).read_text()


@dataclass
class FakeClock:
    now: float = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)

    def time(self) -> float:
        return 1_700_000_000.0 + self.now


@dataclass
class FakeBackground:
    argv: tuple[str, ...]
    code: int | None = None
    stopped: bool = False
    pid: int = 4242

    def exit_code(self) -> int | None:
        return self.code

    def stop(self, grace_s: float = 5.0) -> None:
        self.stopped = True


Reply = CommandOutput | Callable[[tuple[str, ...]], CommandOutput]


@dataclass
class FakeRunner:
    """Answers by the first matching argv prefix; records every command line it was given."""

    replies: list[tuple[tuple[str, ...], Reply]] = field(default_factory=list)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    spawned: list[FakeBackground] = field(default_factory=list)

    def on(
        self, prefix: Sequence[str], output: str = "", code: int | None = 0, timed_out: bool = False
    ) -> None:
        self.replies.append((tuple(prefix), CommandOutput(tuple(prefix), code, output, timed_out)))

    def run(self, argv: Sequence[str], *, timeout: float) -> CommandOutput:
        argv = tuple(argv)
        self.calls.append(argv)
        for prefix, reply in self.replies:
            if argv[: len(prefix)] == prefix:
                return (
                    reply(argv)
                    if callable(reply)
                    else CommandOutput(argv, reply.exit_code, reply.output, reply.timed_out)
                )
        raise AssertionError(f"unexpected command: {argv}")

    def spawn(
        self, argv: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None
    ) -> FakeBackground:
        self.calls.append(tuple(argv))
        bg = FakeBackground(tuple(argv))
        self.spawned.append(bg)
        return bg


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def redis_client() -> Iterator[tuple[object, str]]:
    """A real Redis client and a key prefix unique to this test; keys are deleted afterwards.
    Fails (not skips) on CI when Redis is unreachable."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
        available, why = True, ""
    except redis.RedisError as exc:
        available, why = False, str(exc)
    require_service(
        "Redis", available, f"{REDIS_URL}: {why} (start redis-server or set INSTEP_TEST_REDIS_URL)"
    )
    prefix = f"instep-test:{uuid.uuid4().hex}"
    yield client, prefix
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()
