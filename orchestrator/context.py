"""The running service's parts, built once from settings by `instep serve` / `instep worker` and
handed to the API, the Celery tasks and the reconciler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrator.artifacts import ArtifactStore, store_from_setting
from orchestrator.db.session import Database
from orchestrator.logbus import FileLogBus, LogBus, RedisLogBus
from orchestrator.runs import Dispatch
from orchestrator.sealing import Sealer
from orchestrator.settings import Settings


class Dispatcher(Protocol):
    def plan(self, run_id: int) -> None: ...
    def advance(self, run_id: int) -> None: ...
    def jobs(self, dispatches: list[Dispatch]) -> None: ...


@dataclass
class Context:
    settings: Settings
    db: Database
    store: ArtifactStore
    logs: LogBus
    dispatcher: Dispatcher
    sealer: Sealer
    redis: Any | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)


def build_context(settings: Settings, dispatcher: Dispatcher) -> Context:
    db = Database(settings.database_url)
    store = store_from_setting(settings.artifacts)
    client = redis_client(settings.redis_url) if settings.redis_url else None
    logs: LogBus = RedisLogBus(client) if client is not None else FileLogBus(settings.logs_dir)
    return Context(
        settings=settings,
        db=db,
        store=store,
        logs=logs,
        dispatcher=dispatcher,
        sealer=Sealer(settings.secret_key),
        redis=client,
    )
