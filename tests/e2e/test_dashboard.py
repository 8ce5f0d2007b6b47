"""People using the dashboard in Chromium: QA reviews screenshots with the keyboard, a developer
is offered no review actions and a forged POST is refused, hostile text stays text, pages pass
axe-core and fit a 390 px phone, the live log and run state update without a reload."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.dashboard.seed import XSS
from tests.e2e.conftest import PHONE, SCREENSHOTS, Dashboard, axe_violations
from tests.integration.harness import wait_for

pytestmark = pytest.mark.e2e


def _reviews(d: Dashboard) -> list[tuple[str, str]]:
    with d.instep.api() as api:
        comparisons = api.get(f"/api/runs/{d.seeded.runs['review']}/comparisons").json()
    return [(c["name"], r["decision"]) for c in comparisons for r in c["reviews"]]


def test_a_developer_sees_no_review_actions_and_forged_posts_change_nothing(
    dashboard: Dashboard, context: Any
) -> None:
    page = context.new_page()
    dashboard.sign_in(page, "dev")
    cid = dashboard.seeded.comparisons["signin"]
    page.goto(f"{dashboard.url}/comparisons/{cid}")
    page.wait_for_selector("#review-panel")
    assert page.locator("#approve").count() == 0 and page.locator("#reject").count() == 0
    page.goto(f"{dashboard.url}/runs/{dashboard.seeded.runs['review']}/review")
    assert page.get_by_role("button", name=re.compile("Approve all")).count() == 0
    before = _reviews(dashboard)
    # The browser's own cookies, without and with a wrong CSRF token (as a hostile page would).
    for form in ({"decision": "approved"}, {"decision": "approved", "csrf_token": "f" * 64}):
        r = page.request.post(f"{dashboard.url}/comparisons/{cid}/review", form=form)
        assert r.status == 403
    # Even QA's session refuses a POST without its token.
    qa = context.browser.new_context()
    qa_page = qa.new_page()
    dashboard.sign_in(qa_page, "qa")
    r = qa_page.request.post(f"{dashboard.url}/comparisons/{cid}/review", form={"decision": "approved"})
    assert r.status == 403
    r = qa_page.request.post(f"{dashboard.url}/runs/{dashboard.seeded.runs['review']}/review", form={})
    assert r.status == 403
    qa.close()
    assert _reviews(dashboard) == before


def test_hostile_text_renders_as_text_and_no_dialog_fires(dashboard: Dashboard, context: Any) -> None:
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    dashboard.sign_in(page, "qa")
    s = dashboard.seeded
    visible = "<img src=x onerror=alert(1)>"
    checks = [
        ("/runs", "feature/" + XSS),  # branch name and author
        ("/runs", "Fix checkout " + XSS),  # commit message (its first line)
        (f"/runs/{s.runs['failed']}", "test_checkout " + XSS),  # test name
        (f"/runs/{s.runs['failed']}", "Fix checkout " + XSS),  # commit message
        (f"/jobs/{s.jobs['unit']}", XSS),  # log line (stored log)
        (f"/runs/{s.runs['review']}/review", "promo " + XSS),  # screen name
        (f"/comparisons/{s.comparisons['promo']}", "promo " + XSS),
    ]
    for path, text in checks:
        response = page.goto(f"{dashboard.url}{path}")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert text in page.inner_text("main"), path
        assert page.locator("main img[src='x']").count() == 0, path
    # A hostile line arriving on a live log is text too.
    page.goto(f"{dashboard.url}/jobs/{s.jobs['running']}")
    page.wait_for_selector("#log-state:has-text('live')")
    dashboard.logs.append(s.jobs["running"], [f"\x1b[31merror:\x1b[0m {XSS}"])
    line = page.locator("#log .log-error").last
    line.wait_for()
    assert visible in line.inner_text()
    assert page.locator("#log img").count() == 0
    assert page.locator("#jump-error").is_visible()
    assert dialogs == []


def test_the_live_log_follows_new_lines_without_a_reload(dashboard: Dashboard, context: Any) -> None:
    page = context.new_page()
    dashboard.sign_in(page, "dev")
    job = dashboard.seeded.jobs["running"]
    page.goto(f"{dashboard.url}/jobs/{job}")
    page.wait_for_selector("#log-state:has-text('live')")
    page.evaluate("window.__loaded = true")
    dashboard.logs.append(job, ["\x1b[1;34mstep 3 of 3\x1b[0m", "all good"])
    page.wait_for_selector("#log .line:has-text('all good')")
    assert page.locator("#log .ansi-blue.ansi-bold", has_text="step 3 of 3").count() == 1
    assert page.evaluate("window.__loaded") is True


def test_qa_reviews_with_the_keyboard_and_the_run_updates_live(dashboard: Dashboard, context: Any) -> None:
    page = context.new_page()
    dashboard.sign_in(page, "qa")
    run_id = dashboard.seeded.runs["review"]
    page.click(f"[data-run-id='{run_id}'] a")
    page.click("a.button:has-text('Screenshot review')")
    page.wait_for_url(f"**/runs/{run_id}/review")
    thumbs = page.locator(".thumb img")
    assert thumbs.first.get_attribute("loading") == "lazy"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "review.png"), full_page=True)

    # The first screen awaiting review: a changed one (cart).
    page.click(".thumb a >> nth=0")
    page.wait_for_selector("#review-panel")
    assert "cart" in page.inner_text("h1")
    assert page.locator("#view-side .boxes rect").count() >= 1  # changed areas outlined
    page.keyboard.press("2")
    assert page.locator("#view-swipe").is_visible()
    page.locator("#swipe").fill("80")
    assert page.eval_on_selector("#swipe-top", "el => el.style.clipPath") == "inset(0px 0px 0px 80%)"
    page.keyboard.press("3")
    page.locator("#onion").fill("25")
    assert page.eval_on_selector("#onion-top", "el => el.style.opacity") == "0.25"
    page.keyboard.press("4")
    assert page.locator("#view-diff").is_visible() and not page.locator("#view-swipe").is_visible()
    wait_for(
        "the diff image to load",
        lambda: page.eval_on_selector("#view-diff img", "el => el.naturalWidth") > 0,
        10,
    )
    page.screenshot(path=str(SCREENSHOTS / "review-diff.png"), full_page=True)

    page.keyboard.press("a")
    page.wait_for_selector("#review-panel .decision:has-text('approved')")
    history = page.inner_text("#review-panel table.history")
    assert re.search(r"v2\s+user:qa\s+" + str(run_id), history), history

    page.keyboard.press("j")
    page.wait_for_selector("h1:has-text('signin')")
    page.keyboard.press("a")
    page.wait_for_selector("#review-panel .decision:has-text('approved')")

    page.keyboard.press("j")  # the new screen; a rejection fails the stage and so the run
    page.wait_for_selector("h1:has-text('promo')")
    page.evaluate("window.__loaded = true")
    badge = page.locator(f".comparison-head [data-run-status='{run_id}'] .status")
    assert badge.inner_text() == "waiting"
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reject-comment"
    page.keyboard.type("the promo banner overlaps the title")
    page.click("#reject")
    page.wait_for_selector("#review-panel .decision:has-text('rejected')")
    assert "the promo banner overlaps the title" in page.inner_text("#review-panel .decision")
    # The badge changes over SSE, without a reload.
    wait_for("the run badge to turn failed", lambda: badge.inner_text() == "failed", 15)
    assert page.evaluate("window.__loaded") is True
    assert sorted(d for _n, d in _reviews(dashboard)) == ["approved", "approved", "rejected"]


def test_pages_fit_a_phone_and_pass_axe(dashboard: Dashboard, browser: Any) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True)
    page = context.new_page()
    dashboard.sign_in(page, "rm")
    s = dashboard.seeded
    for path in (
        "/runs",
        f"/runs/{s.runs['failed']}",
        f"/jobs/{s.jobs['unit']}",
        f"/runs/{s.runs['review']}/review",
        f"/comparisons/{s.comparisons['signin']}",
        "/devices",
    ):
        page.goto(f"{dashboard.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide on a 390 px phone"
        assert axe_violations(page) == [], path
    page.goto(f"{dashboard.url}/runs/{s.runs['review']}/review")
    page.screenshot(path=str(SCREENSHOTS / "review-phone.png"), full_page=True)
    context.close()


def test_the_app_is_installable_and_shows_the_last_runs_offline(dashboard: Dashboard, context: Any) -> None:
    page = context.new_page()
    dashboard.sign_in(page, "dev")
    manifest = httpx.get(f"{dashboard.url}/manifest.webmanifest").json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/runs"
    page.goto(f"{dashboard.url}/runs")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the worker, which keeps this page
    wait_for(
        "the service worker to control the page",
        lambda: page.evaluate("!!navigator.serviceWorker.controller"),
        10,
    )
    page.reload()
    context.set_offline(True)
    try:
        page.reload()
        assert page.locator("[data-run-id]").count() >= 3
        assert page.locator("#offline").is_visible()
        cached = page.evaluate(
            "async () => { const out = []; for (const name of await caches.keys()) {"
            " const c = await caches.open(name); for (const r of await c.keys()) out.push(new URL(r.url).pathname); }"
            " return out; }"
        )
        assert "/runs" in cached and not [p for p in cached if p.startswith(("/api/", "/live/"))]
    finally:
        context.set_offline(False)
