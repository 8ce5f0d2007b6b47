"""Dashboard accounts: argon2id hashes, names and roles checked, `instep user add|passwd|list`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from orchestrator.cli import main
from orchestrator.db.models import User
from orchestrator.db.session import Database
from orchestrator.users import (
    LoginThrottle,
    LoginThrottled,
    UserError,
    create_user,
    set_password,
    sign_in,
    verify_password,
)


def test_passwords_are_stored_as_argon2id_hashes_and_checked(database: Database) -> None:
    with database.session() as s:
        create_user(s, "ana", "qa", "correct horse")
        s.commit()
        row = s.scalar(select(User).where(User.name == "ana"))
        assert row.password_hash.startswith("$argon2id$") and "correct horse" not in row.password_hash
        assert verify_password(s, "ana", "correct horse").name == "ana"
        assert verify_password(s, "ana", "wrong horse") is None
        assert verify_password(s, "nobody", "correct horse") is None


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("bad name", "qa", "long enough", "is not valid"),
        ("ana", "boss", "long enough", "unknown role 'boss'"),
        ("ana", "qa", "short", "shorter than 8 characters"),
    ],
)
def test_bad_accounts_are_refused_with_a_reason(
    database: Database, name: str, role: str, password: str, message: str
) -> None:
    with database.session() as s, pytest.raises(UserError, match=message):
        create_user(s, name, role, password)


def test_a_name_is_taken_once_and_a_new_password_bumps_the_session_version(database: Database) -> None:
    with database.session() as s:
        user = create_user(s, "ana", "qa", "first password")
        with pytest.raises(UserError, match="already exists"):
            create_user(s, "ana", "developer", "other password")
        version = user.session_version
        set_password(s, "ana", "second password")
        assert user.session_version == version + 1
        assert verify_password(s, "ana", "second password") is not None


def test_sign_in_throttles_after_five_failures_in_a_minute(database: Database) -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    with database.session() as s:
        create_user(s, "ana", "qa", "right password")
        s.commit()
        for n in range(5):
            now[0] = n * 10.0
            assert sign_in(s, throttle, "ana", "wrong") is None
        with pytest.raises(LoginThrottled, match="try again in 20 s"):
            sign_in(s, throttle, "ana", "right password")
        now[0] = 60.5  # the first failure has left the window: one attempt is free again
        assert sign_in(s, throttle, "ana", "right password").name == "ana"


def test_user_commands(tmp_path: Path) -> None:
    env = {"INSTEP_HOME": str(tmp_path / "home"), "INSTEP_SECRET_KEY": "cli-secret-key-0123456"}
    runner = CliRunner()
    r = runner.invoke(
        main, ["user", "add", "ana", "--role", "qa", "--password-stdin"], input="pass word 1\n", env=env
    )
    assert r.exit_code == 0, r.output
    assert "user ana (qa) added" in r.output
    r = runner.invoke(
        main, ["user", "add", "ana", "--role", "qa", "--password-stdin"], input="pass word 2\n", env=env
    )
    assert r.exit_code == 2 and "already exists" in r.output
    r = runner.invoke(
        main, ["user", "add", "bo", "--role", "developer", "--password-stdin"], input="tiny\n", env=env
    )
    assert r.exit_code == 2 and "shorter than 8" in r.output
    r = runner.invoke(
        main, ["user", "add", "bo", "--role", "developer"], input="secret pw\nsecret pw\n", env=env
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["user", "passwd", "ana", "--password-stdin"], input="new pass word\n", env=env)
    assert r.exit_code == 0 and "sessions have ended" in r.output
    r = runner.invoke(
        main, ["user", "passwd", "nobody", "--password-stdin"], input="new pass word\n", env=env
    )
    assert r.exit_code == 2 and "no user named 'nobody'" in r.output
    r = runner.invoke(main, ["user", "list", "--json"], env=env)
    assert [(u["name"], u["role"]) for u in json.loads(r.output)] == [("ana", "qa"), ("bo", "developer")]
    db = Database(f"sqlite:///{tmp_path / 'home' / 'instep.db'}")
    with db.session() as s:
        assert verify_password(s, "ana", "new pass word") is not None
    db.dispose()
