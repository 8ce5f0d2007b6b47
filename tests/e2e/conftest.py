"""The dashboard in real Chromium (Debian's, driven by Playwright for Python) against a real
`instep serve` on 127.0.0.1, whose database and artifact store were seeded through the
orchestrator's services (tests/dashboard/seed.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.artifacts import LocalArtifactStore
from orchestrator.db.session import Database, upgrade
from orchestrator.logbus import FileLogBus
from orchestrator.settings import Settings
from tests.conftest import require_service
from tests.dashboard.seed import PASSWORDS, Seeded, seed
from tests.integration.harness import Instep

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tools" / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}


class Dashboard:
    def __init__(self, instep: Instep, seeded: Seeded, logs: FileLogBus) -> None:
        self.instep = instep
        self.url = instep.url
        self.seeded = seeded
        self.logs = logs

    def sign_in(self, page: Any, name: str) -> None:
        page.goto(f"{self.url}/login")
        page.fill("#name", name)
        page.fill("#password", PASSWORDS[name])
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.url}/runs")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    home = tmp_path_factory.mktemp("e2e") / "home"
    # Jobs seeded as running have no worker: keep the reconciler from re-queueing them.
    instep = Instep(home, extra_env={"INSTEP_LOST_AFTER_SECONDS": "3600"})
    settings = Settings.from_env(instep.env)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    logs = FileLogBus(settings.logs_dir)
    seeded = seed(db, LocalArtifactStore(Path(settings.artifacts)), logs, settings.secret_key)
    db.dispose()
    try:
        instep.serve()
        yield Dashboard(instep, seeded, logs)
    finally:
        instep.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    require_service("Chromium", executable is not None, "run scripts/install-chromium.sh")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        require_service("Playwright", False, "pip install -e '.[test]'")
        raise
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core findings on the current page."""
    require_service("axe-core", AXE.exists(), "run scripts/install-dashboard-assets.sh")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
