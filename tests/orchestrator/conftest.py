"""Shared fixtures for orchestrator tests: the REST API in-process (FastAPI TestClient) on a real
database, with Celery replaced by a dispatcher that records what would have been sent."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.artifacts import LocalArtifactStore
from orchestrator.context import Context
from orchestrator.db.session import Database
from orchestrator.logbus import FileLogBus
from orchestrator.runs import Dispatch
from orchestrator.sealing import Sealer
from orchestrator.settings import Settings
from orchestrator.tokens import create_token


class RecordingDispatcher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def plan(self, run_id: int) -> None:
        self.sent.append(("plan", run_id))

    def advance(self, run_id: int) -> None:
        self.sent.append(("advance", run_id))

    def jobs(self, dispatches: list[Dispatch]) -> None:
        self.sent.extend(("job", d) for d in dispatches)


class Api:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.dispatcher = RecordingDispatcher()
        self.ctx = Context(
            settings=settings,
            db=database,
            store=LocalArtifactStore(settings.home / "artifacts"),
            logs=FileLogBus(settings.logs_dir),
            dispatcher=self.dispatcher,
            sealer=Sealer(settings.secret_key),
        )
        self.client = TestClient(create_app(self.ctx))
        self.tokens: dict[str, str] = {}
        with database.session() as s:
            for role in ("developer", "qa", "release_manager", "admin"):
                self.tokens[role] = create_token(s, role)[1]
            s.commit()

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(settings: Settings, database: Database) -> Api:
    return Api(settings, database)
