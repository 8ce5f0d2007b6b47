"""Shared fixtures: settings in a temporary INSTEP_HOME, databases (SQLite always, PostgreSQL when
INSTEP_TEST_DATABASE_URL is set), real git repositories, and the real services' availability."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from orchestrator.db.session import Database, upgrade
from orchestrator.settings import Settings

ON_CI = bool(os.environ.get("CI"))
PG_URL = os.environ.get("INSTEP_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("INSTEP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_service(name: str, available: bool, how: str) -> None:
    """Skip locally when a real service is missing; on CI (CI set) a missing service fails."""
    if available:
        return
    message = f"{name} is not available: {how}"
    if ON_CI:
        pytest.fail(message)
    pytest.skip(message)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def processes_with_env(marker: str) -> list[int]:
    """PIDs of processes (other than this one) whose environment contains `marker`, e.g.
    `NAME=value`: how tests find what a job left behind without matching command lines."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def make_settings(home: Path, **overrides: str) -> Settings:
    env = {"INSTEP_HOME": str(home), "INSTEP_SECRET_KEY": "test-secret-key-0123456789"}
    env.update(overrides)
    return Settings.from_env(env)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


def _reset_postgres(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()


def _db_params() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=_db_params())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: SQLite, and PostgreSQL too when INSTEP_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'instep.db'}"
    else:
        assert PG_URL is not None
        url = Settings.from_env(
            {"INSTEP_DATABASE_URL": PG_URL, "INSTEP_SECRET_KEY": "x" * 16, "INSTEP_HOME": str(tmp_path)}
        ).database_url
        try:
            _reset_postgres(url)
        except Exception as exc:  # noqa: BLE001 - reported as a clear failure/skip
            require_service("PostgreSQL", False, f"{PG_URL}: {exc}")
    upgrade(url)
    yield url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


def git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


class Repo:
    """A real git repository with a bare 'remote' that Instep clones from."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "remote" / "acme" / "shop.git"
        self.work = root / "work"
        self.bare.parent.mkdir(parents=True)
        git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(self.bare))
        git(root, "clone", "--quiet", str(self.bare), str(self.work))
        git(self.work, "checkout", "--quiet", "-B", "main")

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def commit(self, files: dict[str, str], message: str = "change", branch: str = "main") -> str:
        for name, content in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        git(self.work, "add", "-A")
        git(self.work, "commit", "--quiet", "--allow-empty", "-m", message)
        git(self.work, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
        return git(self.work, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / f"repo-{uuid.uuid4().hex[:6]}")
