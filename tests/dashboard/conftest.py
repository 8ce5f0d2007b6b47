"""The service's app with the dashboard mounted, in-process (TestClient), on a real database and
artifact store with seeded data; Celery is replaced by a dispatcher that records what it sends."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from dashboard import install
from orchestrator.api import create_app
from orchestrator.artifacts import LocalArtifactStore
from orchestrator.context import Context
from orchestrator.db.session import Database
from orchestrator.logbus import FileLogBus
from orchestrator.sealing import Sealer
from orchestrator.settings import Settings
from tests.dashboard.seed import PASSWORDS, Seeded, seed
from tests.orchestrator.conftest import RecordingDispatcher


class Site:
    """The dashboard in-process, with helpers to sign in as a seeded person."""

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
        self.app = create_app(self.ctx, extensions=[install])
        self.seeded: Seeded = seed(database, self.ctx.store, self.ctx.logs, settings.secret_key)

    def client(self) -> TestClient:
        return TestClient(self.app, headers={"Accept": "text/html"})

    def signed_in(self, name: str) -> TestClient:
        client = self.client()
        page = client.get("/login")
        r = client.post(
            "/login",
            data={
                "name": name,
                "password": PASSWORDS[name],
                "csrf_token": csrf_of(page.text),
                "next": "/runs",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


@pytest.fixture
def site(settings: Settings, database: Database) -> Site:
    return Site(settings, database)


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its defaults costs most of a second per hash on a busy machine; these tests are
    about the dashboard, so they hash with the smallest parameters (still argon2id)."""
    from argon2 import PasswordHasher

    from orchestrator import users

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
