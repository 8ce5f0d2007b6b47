"""Engine and session factory, created from settings (never at import time), and migrations."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # Let SQLAlchemy, not pysqlite, open transactions (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while a worker writes; busy_timeout turns lock contention into waiting.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class _WriterQueue:
    """Writers of one SQLite database in this process take turns in arrival order.

    SQLite's own busy handler makes a blocked writer sleep in growing steps (up to 100 ms), which
    shows up as long tail latencies under load; waiting on a lock here wakes the next writer as
    soon as the previous one commits. Other processes still meet SQLite's busy timeout."""

    def __init__(self, timeout: float) -> None:
        self._lock = threading.Lock()
        self.timeout = timeout

    def acquire(self) -> None:
        if not self._lock.acquire(timeout=self.timeout):
            raise TimeoutError(f"waited {self.timeout:.0f} s for the database write lock")

    def release(self) -> None:
        if self._lock.locked():
            self._lock.release()


def _sqlite_begin(queue: _WriterQueue, connection) -> None:  # type: ignore[no-untyped-def]
    # Sessions that may write take the write lock up front (IMMEDIATE): two schedulers reading the
    # same run can never both act on it, and no transaction fails late on a stale snapshot.
    # Read-only sessions (API reads, live logs) begin deferred and never block writers in WAL.
    if connection.get_execution_options().get("instep_read_only"):
        connection.exec_driver_sql("BEGIN")
    else:
        queue.acquire()
        connection.info["instep_writer"] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            connection.info.pop("instep_writer", None)
            queue.release()
            raise


def _sqlite_end(queue: _WriterQueue, connection) -> None:  # type: ignore[no-untyped-def]
    if connection.info.pop("instep_writer", False):
        queue.release()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=10, max_overflow=30
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # One queue per engine, held by the listeners themselves: it outlives `engine.dispose()`,
        # which replaces the pool (a heartbeat thread may still write through it afterwards).
        writers = _WriterQueue(timeout=30)
        event.listen(engine, "begin", functools.partial(_sqlite_begin, writers))
        event.listen(engine, "commit", functools.partial(_sqlite_end, writers))
        event.listen(engine, "rollback", functools.partial(_sqlite_end, writers))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30)


class Database:
    """Owns one engine and hands out sessions; the caller commits."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(instep_read_only=True), expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that may write (the caller commits)."""
        with self._session(self.sessions) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session that only reads: on SQLite it never takes the write lock."""
        with self._session(self.read_sessions) as session:
            yield session

    @contextmanager
    def _session(self, factory: sessionmaker[Session]) -> Iterator[Session]:
        session = factory()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` (idempotent)."""
    make_engine(url).dispose()  # creates the SQLite parent directory
    command.upgrade(alembic_config(url), revision)
