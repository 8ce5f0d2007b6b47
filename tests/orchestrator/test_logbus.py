"""Live logs read asynchronously from an offset: the file bus seeks, the Redis bus asks LRANGE
from an index; `follow` streams lines, keep-alives and the end."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from orchestrator.logbus import FileLogBus, LogEnd, LogLine, RedisLogBus, follow
from tests.conftest import REDIS_URL, port_open, require_service


def _redis_bus() -> RedisLogBus:
    import redis

    host_port = REDIS_URL.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    require_service("Redis", port_open(host or "127.0.0.1", int(port or 6379)), REDIS_URL)
    return RedisLogBus(redis.Redis.from_url(REDIS_URL), prefix=f"instep-test:{uuid.uuid4().hex}")


@pytest.fixture(params=["file", "redis"])
def bus(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "file":
        return FileLogBus(tmp_path / "logs")
    return _redis_bus()


def test_a_follower_returns_only_new_lines_and_then_closes(bus) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        reader = bus.follower(7)
        assert await reader.poll() == ([], False)
        bus.append(7, ["one", "two é"])
        assert await reader.poll() == (["one", "two é"], False)
        bus.append(7, ["three"])
        assert await reader.poll() == (["three"], False)
        bus.close(7)
        assert await reader.poll() == ([], True)

    asyncio.run(scenario())


def test_a_follower_starts_at_a_line_index_and_respects_the_limit(bus) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        bus.append(3, [f"line {i}" for i in range(10)])
        bus.close(3)
        reader = bus.follower(3, start=4)
        lines, closed = await reader.poll(limit=3)
        assert (lines, closed) == (["line 4", "line 5", "line 6"], False)
        assert await reader.poll(limit=100) == (["line 7", "line 8", "line 9"], True)

    asyncio.run(scenario())


def test_the_file_follower_reads_from_where_it_stopped(tmp_path: Path) -> None:
    bus = FileLogBus(tmp_path)
    bus.append(1, ["x" * 100] * 50)

    async def scenario() -> None:
        reader = bus.follower(1)
        assert len((await reader.poll())[0]) == 50
        size = bus.local_path(1).stat().st_size
        assert reader.offset == size
        # A half-written line is not returned until its newline arrives.
        with bus.local_path(1).open("a") as f:
            f.write("partial")
        assert await reader.poll() == ([], False)
        with bus.local_path(1).open("a") as f:
            f.write(" line\n")
        assert await reader.poll() == (["partial line"], False)

    asyncio.run(scenario())


def test_follow_streams_lines_then_ends_with_the_job_state(tmp_path: Path) -> None:
    bus = FileLogBus(tmp_path)
    bus.append(5, ["a", "b"])
    state: dict[str, str | None] = {"why": None}

    async def ended() -> str | None:
        return state["why"]

    async def scenario() -> list[LogLine | LogEnd | None]:
        seen: list[LogLine | LogEnd | None] = []
        async for item in follow(bus, 5, 1, ended, poll_seconds=0.01, max_seconds=10):
            seen.append(item)
            if item == LogLine(1, "b"):
                bus.append(5, ["c"])
                state["why"] = "succeeded"
        return seen

    assert asyncio.run(scenario()) == [LogLine(1, "b"), LogLine(2, "c"), LogEnd("succeeded")]


def test_follow_sends_keep_alives_and_stops_at_its_deadline(tmp_path: Path) -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    async def ended() -> str | None:
        return None

    async def scenario() -> list[LogLine | LogEnd | None]:
        return [
            item
            async for item in follow(
                FileLogBus(tmp_path),
                9,
                0,
                ended,
                poll_seconds=0,
                max_seconds=10,
                keepalive_seconds=2.5,
                clock=clock,
            )
        ]

    items = asyncio.run(scenario())
    assert None in items and items[-1] == LogEnd("timeout")
