"""Fixtures for notification tests: settings with private webhooks allowed (the receivers listen
on 127.0.0.1), a project, a loopback receiver, a sender with a controllable clock, and the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestrator.api import create_app
from orchestrator.artifacts import LocalArtifactStore
from orchestrator.context import Context
from orchestrator.db.models import Project, utcnow
from orchestrator.db.session import Database
from orchestrator.logbus import FileLogBus
from orchestrator.notifications.network import guarded_client
from orchestrator.notifications.sender import RetryPolicy, Sender, base_url
from orchestrator.projects import create_project
from orchestrator.sealing import Sealer
from orchestrator.settings import Settings
from orchestrator.tokens import create_token
from tests.conftest import make_settings
from tests.notifications.receiver import Receiver


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path / "home",
        INSTEP_ALLOW_PRIVATE_WEBHOOKS="1",
        INSTEP_PUBLIC_URL="https://instep.example.com",
    )


@pytest.fixture
def sealer(settings: Settings) -> Sealer:
    return Sealer(settings.secret_key)


@pytest.fixture
def project(database: Database, sealer: Sealer) -> Project:
    with database.session() as s:
        p = create_project(
            s, sealer=sealer, name="shop", repo_url="https://github.com/acme/shop.git", match_name="acme/shop"
        )
        s.commit()
        return p


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sender(database: Database, sealer: Sealer, settings: Settings, clock: Clock) -> Iterator[Sender]:
    client = guarded_client(allow_private=settings.allow_private_webhooks, timeout=5)
    yield Sender(
        database,
        sealer,
        base_url=base_url(settings),
        client=client,
        retry=RetryPolicy(max_attempts=3, first_delay=timedelta(seconds=10), max_delay=timedelta(minutes=5)),
        clock=clock,
    )
    client.close()


class Api:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.ctx = Context(
            settings=settings,
            db=database,
            store=LocalArtifactStore(settings.home / "artifacts"),
            logs=FileLogBus(settings.logs_dir),
            dispatcher=None,  # type: ignore[arg-type]  # notification routes never dispatch
            sealer=Sealer(settings.secret_key),
        )
        self.client = TestClient(create_app(self.ctx))
        self.tokens: dict[str, str] = {}
        with database.session() as s:
            for role in ("developer", "qa", "release_manager", "admin"):
                self.tokens[role] = create_token(s, role, name=f"{role}-person")[1]
            s.commit()

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def api(settings: Settings, database: Database) -> Api:
    return Api(settings, database)
