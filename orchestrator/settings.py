"""One settings object, read from `INSTEP_*` environment variables in one place."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class SettingsError(Exception):
    """A setting is missing or unsafe; the message names the variable and what to do."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    home: Path
    database_url: str
    redis_url: str | None
    artifacts: str
    secret_key: str
    fastlane: str | None
    appium_home: Path
    url: str
    token: str | None
    heartbeat_seconds: float = 2.0
    # A running job whose heartbeat is older than this is considered lost.
    lost_after_seconds: float = 30.0
    reconcile_seconds: float = 5.0
    # A queued run or job whose message was sent longer ago than this is sent again (the message
    # was lost: broker restarted empty, a crash between commit and send). INSTEP_RESEND_AFTER_SECONDS
    resend_after_seconds: float = 120.0
    max_infra_attempts: int = 3
    # Notifications may go to private, loopback and link-local addresses (INSTEP_ALLOW_PRIVATE_WEBHOOKS).
    allow_private_webhooks: bool = False
    # Where people open the dashboard (links in notifications and commit statuses).
    public_url: str | None = None
    # How often the stores are read for review and rollout state (INSTEP_STORE_POLL_SECONDS).
    store_poll_seconds: float = 60.0
    # Tests only (INSTEP_TEST_PAUSE_AFTER_STORE_SEND=PATH): after a store accepted a submission and
    # before the ledger records it, the worker writes PATH and stops there, so a test can kill it.
    test_pause_after_store_send: Path | None = None
    # Jobs may run without the bubblewrap sandbox (INSTEP_UNSANDBOXED_JOBS=1): only where bwrap
    # cannot run (macOS workers), and knowing that jobs then see everything the worker sees.
    unsandboxed_jobs: bool = False
    # Extra folders a sandboxed job may write (caches such as ~/.gradle), INSTEP_SANDBOX_WRITABLE
    # separated by the path separator.
    sandbox_writable: tuple[Path, ...] = ()

    @property
    def embedded(self) -> bool:
        return self.redis_url is None

    @property
    def workspaces_dir(self) -> Path:
        return self.home / "workspaces"

    @property
    def mirrors_dir(self) -> Path:
        return self.home / "mirrors"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("INSTEP_HOME") or "./.instep").expanduser().resolve()
        redis_url = env.get("INSTEP_REDIS_URL") or None
        database_url = env.get("INSTEP_DATABASE_URL") or f"sqlite:///{home / 'instep.db'}"
        if database_url.startswith("postgres://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
        elif database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
        secret_key = env.get("INSTEP_SECRET_KEY") or ""
        if not secret_key:
            if redis_url is not None:
                raise SettingsError(
                    "INSTEP_SECRET_KEY is not set: distributed mode (INSTEP_REDIS_URL is set) needs the "
                    "same secret key on every machine; generate one with "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
                )
            secret_key = _embedded_secret_key(home)
        elif len(secret_key) < 16:
            raise SettingsError("INSTEP_SECRET_KEY is shorter than 16 characters; use a random value")
        return cls(
            home=home,
            database_url=database_url,
            redis_url=redis_url,
            artifacts=env.get("INSTEP_ARTIFACTS") or str(home / "artifacts"),
            secret_key=secret_key,
            fastlane=env.get("INSTEP_FASTLANE") or None,
            appium_home=Path(env.get("INSTEP_APPIUM_HOME") or home / "appium").expanduser(),
            url=(env.get("INSTEP_URL") or "http://127.0.0.1:8080").rstrip("/"),
            token=env.get("INSTEP_TOKEN") or None,
            heartbeat_seconds=_number(env, "INSTEP_HEARTBEAT_SECONDS", 2.0),
            lost_after_seconds=_number(env, "INSTEP_LOST_AFTER_SECONDS", 30.0),
            reconcile_seconds=_number(env, "INSTEP_RECONCILE_SECONDS", 5.0),
            resend_after_seconds=_number(env, "INSTEP_RESEND_AFTER_SECONDS", 120.0),
            allow_private_webhooks=_flag(env, "INSTEP_ALLOW_PRIVATE_WEBHOOKS"),
            public_url=(env.get("INSTEP_PUBLIC_URL") or "").rstrip("/") or None,
            store_poll_seconds=_number(env, "INSTEP_STORE_POLL_SECONDS", 60.0),
            unsandboxed_jobs=_flag(env, "INSTEP_UNSANDBOXED_JOBS"),
            sandbox_writable=tuple(
                Path(p).expanduser().resolve()
                for p in (env.get("INSTEP_SANDBOX_WRITABLE") or "").split(os.pathsep)
                if p
            ),
            test_pause_after_store_send=Path(env["INSTEP_TEST_PAUSE_AFTER_STORE_SEND"])
            if env.get("INSTEP_TEST_PAUSE_AFTER_STORE_SEND")
            else None,
        )


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be greater than 0")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name}={raw!r} is not a yes/no value (use 1 or 0)")


def _embedded_secret_key(home: Path) -> str:
    """Embedded mode keeps a generated key in INSTEP_HOME so restarts keep sessions valid."""
    path = home / "secret_key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
