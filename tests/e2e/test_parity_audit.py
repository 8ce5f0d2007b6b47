"""The web parity board and the audit log in Chromium against a real `instep serve`: a person
filters the audit log and downloads the export, hostile names stay text, and both pages pass
axe-core and fit a 390 px phone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.artifacts import LocalArtifactStore
from orchestrator.db.session import Database, upgrade
from orchestrator.logbus import FileLogBus
from orchestrator.settings import Settings
from tests.dashboard.seed import Seeded, users
from tests.dashboard.seed_parity import HOSTILE, ParitySeeded, seed_parity
from tests.e2e.conftest import PHONE, Dashboard, axe_violations
from tests.integration.harness import Instep

pytestmark = pytest.mark.e2e


class ParityDashboard(Dashboard):
    parity: ParitySeeded


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ParityDashboard]:
    home = tmp_path_factory.mktemp("e2e-parity") / "home"
    instep = Instep(home)
    settings = Settings.from_env(instep.env)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    users(db)
    parity = seed_parity(db, LocalArtifactStore(Path(settings.artifacts)), settings.secret_key)
    db.dispose()
    try:
        instep.serve()
        server = ParityDashboard(instep, Seeded(), FileLogBus(settings.logs_dir))
        server.parity = parity
        yield server
    finally:
        instep.stop()


def test_a_person_filters_the_audit_log_and_downloads_the_export(
    server: ParityDashboard, context: Any
) -> None:
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    server.sign_in(page, "qa")
    page.click("nav >> text=Audit")
    page.wait_for_url("**/audit")
    assert page.locator("table.audit-log tbody tr").count() == 10
    page.select_option("select[name=project]", "atlas")
    page.select_option("select[name=action]", "approved")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/audit?project=atlas&*action=approved")
    rows = page.locator("table.audit-log tbody tr")
    assert rows.count() == 2
    assert f"quinn {HOSTILE}" in rows.nth(1).inner_text()
    assert f"comment: screens fine {HOSTILE}" in rows.nth(1).inner_text()
    assert page.locator("main img").count() == 0
    page.click("table.audit-log tbody tr >> nth=0 >> a")
    page.wait_for_url(f"**/releases/{server.parity.releases['4.2.0']}")

    page.go_back()
    with page.expect_download() as download:
        page.click("text=Export JSON")
    assert download.value.suggested_filename == "instep-audit.json"
    events = json.loads(Path(download.value.path()).read_text())
    assert [(e["person"], e["action"], e["release_version"]) for e in events] == [
        ("rita", "approved", "4.2.0"),
        (f"quinn {HOSTILE}", "approved", "4.2.0"),
    ]
    assert events[1]["details"] == {"role": "qa", "comment": f"screens fine {HOSTILE}"}
    assert dialogs == []


def test_the_parity_board_shows_hostile_names_as_text(server: ParityDashboard, context: Any) -> None:
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    server.sign_in(page, "dev")
    page.goto(f"{server.url}/parity?project=atlas")
    production = page.locator("[data-environment=production]")
    assert f"by web-ci {HOSTILE}" in production.inner_text()
    ios = production.locator("[data-platform=ios]").inner_text()
    assert "4.2.0" in ios and "1 web version behind (2026.12.1)" in ios
    decisions = page.locator("table.parity-decisions tbody tr")
    assert decisions.count() == 4
    assert "checked against production web 2026.11.3 (api 2025-10)" in decisions.nth(3).inner_text()
    assert page.locator("main img").count() == 0 and dialogs == []


def test_parity_and_audit_fit_a_phone_and_pass_axe(server: ParityDashboard, browser: Any) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True)
    page = context.new_page()
    server.sign_in(page, "rm")
    for path in (
        "/parity",
        "/parity?project=atlas",
        "/parity?project=quiet",
        "/audit",
        "/audit?person=nobody",
    ):
        page.goto(f"{server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide on a 390 px phone"
        assert axe_violations(page) == [], path
    context.close()
