"""Instep's pytest plugin, loaded with `-p device_farm.pytest_plugin` by the suite runner.

Fixtures: `driver` (an Appium session on the leased device), `instep_capture(name)` (a named
screenshot saved to `<artifacts>/<device-profile>/<locale>/<name>.png`) and `instep_app_url`.
The runner passes everything through INSTEP_* environment variables; without them the fixtures
fail with a message saying how to run the suite. Importing this module loads nothing heavy."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ENV_APPIUM_URL = "INSTEP_APPIUM_URL"
ENV_CAPABILITIES = "INSTEP_CAPABILITIES"
ENV_PROFILE = "INSTEP_DEVICE_PROFILE"
ENV_LOCALE = "INSTEP_LOCALE"
ENV_ARTIFACTS = "INSTEP_ARTIFACTS_DIR"
ENV_APP_URL = "INSTEP_APP_URL"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class SuiteSession:
    """What the runner hands to the tests of one shard."""

    appium_url: str | None
    capabilities: dict[str, Any]
    profile: str
    locale: str
    artifacts: Path
    app_url: str | None

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> SuiteSession:
        try:
            caps = json.loads(env.get(ENV_CAPABILITIES) or "{}")
        except ValueError as exc:
            raise pytest.UsageError(f"{ENV_CAPABILITIES} is not JSON: {exc}") from exc
        return cls(
            appium_url=env.get(ENV_APPIUM_URL) or None,
            capabilities=caps,
            profile=env.get(ENV_PROFILE) or "local",
            locale=env.get(ENV_LOCALE) or "en-US",
            artifacts=Path(env.get(ENV_ARTIFACTS) or "instep-artifacts"),
            app_url=env.get(ENV_APP_URL) or None,
        )

    def to_environ(self) -> dict[str, str]:
        env = {
            ENV_CAPABILITIES: json.dumps(self.capabilities),
            ENV_PROFILE: self.profile,
            ENV_LOCALE: self.locale,
            ENV_ARTIFACTS: str(self.artifacts),
        }
        if self.appium_url:
            env[ENV_APPIUM_URL] = self.appium_url
        if self.app_url:
            env[ENV_APP_URL] = self.app_url
        return env

    def screenshot_path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ValueError(
                f"screenshot name {name!r} must be 1-100 letters, digits, '.', '_' or '-' and start "
                "with a letter or digit (it becomes a file name)"
            )
        return self.artifacts / self.profile / self.locale / f"{name}.png"


@pytest.fixture(scope="session")
def instep_session() -> SuiteSession:
    return SuiteSession.from_environ(os.environ)


@pytest.fixture(scope="session")
def instep_app_url(instep_session: SuiteSession) -> str:
    if not instep_session.app_url:
        pytest.fail(f"{ENV_APP_URL} is not set: run the suite with `instep suite run ... --app DIR_OR_URL`")
    return instep_session.app_url


@pytest.fixture
def driver(instep_session: SuiteSession, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh Appium session per test on the device the shard leased."""
    if not instep_session.appium_url:
        pytest.fail(f"{ENV_APPIUM_URL} is not set: run this suite with `instep suite run`")
    from appium import webdriver
    from appium.options.common import AppiumOptions

    options = AppiumOptions()
    options.load_capabilities(instep_session.capabilities)
    session = webdriver.Remote(instep_session.appium_url, options=options)
    request.node.instep_driver = session
    try:
        yield session
    finally:
        try:
            session.quit()
        except Exception:  # noqa: BLE001 - the server may be gone; the test result already says so
            pass


@pytest.fixture
def instep_capture(driver: Any, instep_session: SuiteSession) -> Callable[[str], Path]:
    """`instep_capture("orders")` saves the current screen as a named screenshot and returns its path."""

    def capture(name: str) -> Path:
        path = instep_session.screenshot_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(driver.get_screenshot_as_png())
        return path

    return capture


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    session = getattr(item, "instep_driver", None)
    if report.when == "call" and report.failed and session is not None:
        # A screenshot of the failing screen is the first thing anyone asks for.
        target = Path(os.environ.get(ENV_ARTIFACTS) or "instep-artifacts") / "failures"
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", item.nodeid)[-150:]
        try:
            target.mkdir(parents=True, exist_ok=True)
            (target / f"{os.environ.get(ENV_PROFILE, 'local')}-{safe}.png").write_bytes(
                session.get_screenshot_as_png()
            )
        except Exception:  # noqa: BLE001 - best effort; the failure itself is what matters
            pass
