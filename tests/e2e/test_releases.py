"""The release manager in Chromium against a real `instep serve`, with Google Play played by the
store simulator: approving a release updates its checklist; halting the live staged rollout from
a 390 px phone goes through a confirmation and reaches the store; a developer is offered neither
and forged posts change nothing; hostile text stays text; the pages pass axe-core on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator.artifacts import LocalArtifactStore
from orchestrator.context import Context
from orchestrator.db.session import Database, upgrade
from orchestrator.logbus import FileLogBus
from orchestrator.sealing import Sealer
from orchestrator.settings import Settings
from tests.dashboard.seed import XSS, Seeded, users
from tests.dashboard.seed_releases import ROLLING, SeededReleases, seed_releases
from tests.e2e.conftest import PHONE, SCREENSHOTS, Dashboard, axe_violations
from tests.integration.harness import Instep
from tests.orchestrator.conftest import RecordingDispatcher
from tests.stores.conftest import Sim, _serve

pytestmark = pytest.mark.e2e
TRACKS_UPDATE = "androidpublisher.edits.tracks.update"


@dataclass
class Site:
    dashboard: Dashboard
    sim: Sim
    releases: SeededReleases

    @property
    def url(self) -> str:
        return self.dashboard.url

    def page(self, context: Any, who: str) -> Any:
        page = context.new_page()
        self.dashboard.sign_in(page, who)
        return page

    def release(self, key: str) -> dict[str, Any]:
        with self.dashboard.instep.api() as api:
            return api.get(f"/api/releases/{self.releases.releases[key]}").json()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("e2e-releases")
    simulator = _serve(None)  # Google Play only; ends checking that every request was valid
    sim = next(simulator)
    # The store is read only when asked: the page shows what the actions read back.
    instep = Instep(root / "home", {"INSTEP_LOST_AFTER_SECONDS": "3600", "INSTEP_STORE_POLL_SECONDS": "3600"})
    try:
        settings = Settings.from_env(instep.env)
        upgrade(settings.database_url)
        db = Database(settings.database_url)
        logs = FileLogBus(settings.logs_dir)
        ctx = Context(
            settings=settings,
            db=db,
            store=LocalArtifactStore(Path(settings.artifacts)),
            logs=logs,
            dispatcher=RecordingDispatcher(),
            sealer=Sealer(settings.secret_key),
        )
        users(db)
        seeded = seed_releases(ctx, root, sim)
        db.dispose()
        instep.serve()
        yield Site(Dashboard(instep, Seeded(), logs), sim, seeded)
    finally:
        instep.stop()
        next(simulator, None)


def _row(page: Any, platform: str, check: str) -> str:
    return page.inner_text(f"#platform-{platform} tr[data-check='{check}']")


def test_a_release_manager_halts_the_rollout_from_a_phone(site: Site, phone: Any) -> None:
    rid = site.releases.releases["rolling"]
    page = site.page(phone, "rm")
    page.goto(f"{site.url}/releases")
    page.click(f"[data-release-id='{rid}'] a")
    page.wait_for_url(f"**/releases/{rid}")
    assert "in progress at 1 %" in page.inner_text("#platform-android .rollout-state")
    assert "passed" in _row(page, "android", "release_manager_approval")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "release.png"), full_page=True)

    page.click("#platform-android a.button:has-text('Halt')")
    page.wait_for_url(f"**/releases/{rid}/rollout/halt/android")
    assert page.inner_text("#confirm-statement") == (
        f"Halt the Android staged rollout of {ROLLING} on Google Play at 1 %: no new users get it "
        "until it is resumed. Users who have it keep it."
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click("#confirm")
    page.wait_for_url(f"**/releases/{rid}#platform-android")
    assert page.inner_text("#platform-android h2 .status") == "halted"
    assert "halted at 1 %" in page.inner_text("#platform-android .rollout-state")
    assert page.locator("#platform-android a.button:has-text('Resume')").count() == 1
    assert page.locator("#platform-android a.button:has-text('Halt')").count() == 0
    assert re.search(r"rollout halt · 1\.2\.0 android · rm", page.inner_text("ol.audit"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The store got the halt (the page shows what it read back).
    sent = [e["body"] for e in site.sim.requests() if e["operation"] == TRACKS_UPDATE]
    assert sent and sent[-1]["releases"][-1]["status"] == "halted", sent[-1:]
    assert site.release("rolling")["platforms"][0]["store"]["store_state"] == "halted"


def test_a_release_manager_approves_and_the_checklist_updates(site: Site, context: Any) -> None:
    page = site.page(context, "rm")
    rid = site.releases.releases["gated"]
    page.goto(f"{site.url}/releases/{rid}")
    for platform in ("android", "ios"):
        assert "0 of 1" in _row(page, platform, "release_manager_approval")
    page.fill("#decide-comment", "checked the crash fix on a Pixel 8")
    page.click("#approve-release")
    page.wait_for_url(f"**/releases/{rid}#checklists")
    for platform in ("android", "ios"):
        row = _row(page, platform, "release_manager_approval")
        assert "passed" in row and "approved by rm" in row, row
        assert "soaking until" in _row(page, platform, "soak_time")
    assert "checked the crash fix on a Pixel 8" in page.inner_text("table.approvals")
    approvals = [(a["person"], a["decision"]) for a in site.release("gated")["approvals"]]
    assert approvals[-1] == ("rm", "approve")


def test_a_developer_is_offered_no_release_actions_and_forged_posts_change_nothing(
    site: Site, context: Any
) -> None:
    gated, rolling = site.releases.releases["gated"], site.releases.releases["rolling"]
    before = (site.release("gated"), site.release("rolling"))
    page = site.page(context, "dev")
    page.goto(f"{site.url}/releases/{gated}")
    assert page.locator("#approve-release, #reject-release").count() == 0
    page.goto(f"{site.url}/releases/{rolling}")
    assert page.locator(".rollout-controls").count() == 0
    token = page.get_attribute("meta[name='csrf-token']", "content")
    for form in ({}, {"csrf_token": "f" * 64}, {"csrf_token": token}):
        r = page.request.post(f"{site.url}/releases/{gated}/decide", form={"decision": "approve", **form})
        assert r.status == 403
        for verb in ("resume", "complete"):
            r = page.request.post(f"{site.url}/releases/{rolling}/rollout/{verb}/android", form=form)
            assert r.status == 403
    # The release manager's own session without its token, as a hostile page would send it.
    rm = context.browser.new_context()
    rm_page = site.page(rm, "rm")
    for form in ({}, {"csrf_token": "f" * 64}):
        r = rm_page.request.post(f"{site.url}/releases/{rolling}/rollout/complete/android", form=form)
        assert r.status == 403
    rm.close()
    assert (site.release("gated"), site.release("rolling")) == before


def test_hostile_text_renders_as_text_and_no_dialog_fires(site: Site, context: Any) -> None:
    dialogs: list[str] = []
    page = site.page(context, "qa")
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    rid = site.releases.releases["gated"]
    for path, texts in {
        "/releases": [f"bob {XSS}"],
        f"/releases/{rid}": [f"bob {XSS}", f"crash on login {XSS}"],  # cutter, QA's comment
    }.items():
        page.goto(f"{site.url}{path}")
        main = page.inner_text("main")
        for text in texts:
            assert text in main, path
        assert page.locator("main img[src='x'], main script").count() == 0, path
    assert dialogs == []


def test_release_pages_fit_a_phone_and_pass_axe(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True)
    page = site.page(context, "rm")
    r = site.releases.releases
    for path in (
        "/releases",
        f"/releases/{r['gated']}",
        f"/releases/{r['rolling']}",
        f"/releases/{r['rolling']}/rollout/complete/android",
    ):
        page.goto(f"{site.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide on a 390 px phone"
        assert axe_violations(page) == [], path
    context.close()
