"""People who sign in to the dashboard: accounts with one role each, argon2id password hashes,
checking a password, and the login throttle (5 failures per minute per account)."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from orchestrator.db.models import User
from orchestrator.tokens import ROLES

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
# argon2id with the library's defaults (RFC 9106 low-memory profile). Tests may swap in a
# cheaper one; a hash carries its own parameters, so verification never depends on this.
HASHER = PasswordHasher()
# Verifying against this when the account does not exist costs the same time as a real check,
# so the answer's timing does not tell which names exist.
_DUMMY_HASH = HASHER.hash("instep-no-such-user")


class UserError(Exception):
    """A request about an account that cannot be carried out; the message says why and what to do."""


class UserNotFound(UserError):
    pass


class LoginThrottled(UserError):
    def __init__(self, name: str, retry_after: float) -> None:
        super().__init__(
            f"too many failed sign-ins for {name!r}; try again in {max(1, round(retry_after))} s"
        )
        self.retry_after = retry_after


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UserError(
            f"user name {name!r} is not valid: use 1-100 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (expected one of: {', '.join(ROLES)})")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password is shorter than {MIN_PASSWORD} characters; choose a longer one")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"the password is longer than {MAX_PASSWORD} characters")
    return password


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserNotFound(f"no user named {name!r}; list them with `instep user list`")
    return user


def create_user(session: Session, name: str, role: str, password: str) -> User:
    check_name(name)
    check_role(role)
    check_password(password)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(
            f"a user named {name!r} already exists; change the password with `instep user passwd`"
        )
    user = User(name=name, role=role, password_hash=HASHER.hash(password), session_version=1)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    """Change the password; every session signed in before the change ends."""
    check_password(password)
    user = get_user(session, name)
    user.password_hash = HASHER.hash(password)
    user.session_version += 1
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def verify_password(session: Session, name: str, password: str) -> User | None:
    """The user when the password matches; None otherwise (unknown name or wrong password)."""
    user = session.scalar(select(User).where(User.name == name))
    try:
        HASHER.verify(user.password_hash if user else _DUMMY_HASH, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    return user


@dataclass
class LoginThrottle:
    """At most `limit` failed sign-ins per account within `window` seconds; then the account
    is refused (without checking the password) until the oldest failure leaves the window.

    Kept in this process's memory: each API server counts its own failures."""

    limit: int = 5
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(name.lower(), deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, name: str) -> None:
        """Raise LoginThrottled when the account has used up its failures."""
        with self._lock:
            now = self.clock()
            failures = self._recent(name, now)
            if len(failures) >= self.limit:
                raise LoginThrottled(name, failures[0] + self.window - now)

    def failed(self, name: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent(name, now).append(now)
            if len(self._failures) > 10_000:  # bound the memory an attacker can make us keep
                for key in [k for k, v in self._failures.items() if not v][:5_000]:
                    del self._failures[key]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name.lower(), None)


def sign_in(session: Session, throttle: LoginThrottle, name: str, password: str) -> User | None:
    """Check a sign-in: LoginThrottled when the account is throttled, None on a wrong name or
    password (counted as a failure), the user otherwise."""
    throttle.check(name)
    user = verify_password(session, name, password)
    if user is None:
        throttle.failed(name)
        return None
    throttle.succeeded(name)
    return user
