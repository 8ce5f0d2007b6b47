"""The release manager's pages as people meet them: the list with filters, a release's checklists,
approvals and audit trail; approve / reject and rollout steering only for the roles the API
admits, each behind CSRF, with a confirmation that says what will happen; the service's refusal
shown as its message; hostile text shown as text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.views.releases import rollout_actions
from orchestrator.releases.models import Approval
from orchestrator.releases.routes import PlatformOut
from orchestrator.spec.release import RolloutPlan
from orchestrator.submissions.models import StoreAction
from tests.dashboard.conftest import Site, csrf_of
from tests.dashboard.seed import XSS
from tests.dashboard.seed_releases import GATED, ROLLING, SeededReleases, seed_releases
from tests.stores.conftest import Sim, sim  # noqa: F401  (fixture)

HOSTILE = ("<img src=x onerror", "<script>alert", '"><script>')


@pytest.fixture
def gated(site: Site, tmp_path: Path) -> SeededReleases:
    """Only the release waiting at its gate (no store needed)."""
    return seed_releases(site.ctx, tmp_path)


@pytest.fixture
def shipped(site: Site, tmp_path: Path, sim: Sim) -> SeededReleases:  # noqa: F811
    """Also 1.2.0 rolling out on Google Play (the store simulator) at 1 %."""
    return seed_releases(site.ctx, tmp_path, sim)


def _count(site: Site, model: type) -> int:
    with site.ctx.db.read_session() as s:
        return s.scalar(select(func.count(model.id))) or 0


def _check(html: str, check: str) -> str:
    row = re.search(rf'data-check="{check}">(.*?)</tr>', html, re.S)
    assert row, f"no {check} row"
    return re.sub(r"<[^>]+>", " ", row.group(1))


def test_the_list_filters_by_project_and_state_and_links_each_release(
    site: Site, shipped: SeededReleases
) -> None:
    client = site.signed_in("dev")
    html = client.get("/releases").text
    assert f"wallet {ROLLING}" in html and f"wallet {GATED}" in html
    assert "rolling out" in html and "waiting for gate" in html
    assert f'href="/releases/{shipped.releases["gated"]}"' in html
    assert GATED not in client.get("/releases?project=shop").text
    assert ROLLING in client.get("/releases?state=active").text
    assert "No releases match these filters" in client.get("/releases?state=finished").text
    assert client.get("/releases?project=nope").status_code == 404


def test_a_release_manager_approves_and_the_checklist_passes(site: Site, gated: SeededReleases) -> None:
    rid = gated.releases["gated"]
    client = site.signed_in("rm")
    page = client.get(f"/releases/{rid}")
    assert "waiting for release manager approval: 0 of 1" in _check(page.text, "release_manager_approval")
    assert 'id="approve-release"' in page.text
    r = client.post(
        f"/releases/{rid}/decide",
        data={"decision": "approve", "comment": "good to go", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/releases/{rid}")
    after = client.get(f"/releases/{rid}").text
    row = _check(after, "release_manager_approval")
    assert "passed" in row and "approved by rm" in row
    assert "good to go" in after
    # The gate still waits for its soak time.
    assert "soaking until" in _check(after, "soak_time") and "pending" in _check(after, "soak_time")
    assert "waiting for gate" in after


def test_a_refused_decision_shows_the_services_message(site: Site, gated: SeededReleases) -> None:
    rid = gated.releases["gated"]
    client = site.signed_in("qa")
    token = csrf_of(client.get(f"/releases/{rid}").text)
    r = client.post(f"/releases/{rid}/decide", data={"decision": "reject", "csrf_token": token})
    assert r.status_code == 422
    assert "a rejection needs a comment saying what must change" in r.text
    admin = site.signed_in("admin")
    page = admin.get(f"/releases/{rid}").text
    assert 'name="override_reason"' in page
    r = admin.post(f"/releases/{rid}/decide", data={"decision": "approve", "csrf_token": csrf_of(page)})
    assert r.status_code == 422 and "only as an override" in r.text


def test_actions_a_role_may_not_take_are_not_offered_and_refused_if_forged(
    site: Site, shipped: SeededReleases
) -> None:
    gated_id, rolling_id = shipped.releases["gated"], shipped.releases["rolling"]
    dev = site.signed_in("dev")
    page = dev.get(f"/releases/{gated_id}").text
    assert 'id="approve-release"' not in page and "/decide" not in page
    rolling = dev.get(f"/releases/{rolling_id}").text
    assert "/rollout/halt/android" not in rolling
    qa = site.signed_in("qa")
    assert "/rollout/" not in qa.get(f"/releases/{rolling_id}").text  # QA approves, never steers
    approvals, actions = _count(site, Approval), _count(site, StoreAction)
    token = csrf_of(page)
    assert (
        dev.post(
            f"/releases/{gated_id}/decide", data={"decision": "approve", "csrf_token": token}
        ).status_code
        == 403
    )
    assert (
        dev.post(f"/releases/{rolling_id}/rollout/halt/android", data={"csrf_token": token}).status_code
        == 403
    )
    assert dev.get(f"/releases/{rolling_id}/rollout/halt/android").status_code == 403
    assert qa.get(f"/releases/{rolling_id}/rollout/halt/android").status_code == 403
    rm = site.signed_in("rm")
    for form in ({}, {"csrf_token": "f" * 64}):
        assert rm.post(f"/releases/{rolling_id}/rollout/halt/android", data=form).status_code == 403
        assert (
            rm.post(f"/releases/{gated_id}/decide", data={"decision": "approve", **form}).status_code == 403
        )
    assert (_count(site, Approval), _count(site, StoreAction)) == (approvals, actions)
    assert "rolling out" in rm.get(f"/releases/{rolling_id}").text


def test_halting_goes_through_a_confirmation_that_says_what_will_happen(
    site: Site,
    shipped: SeededReleases,
    sim: Sim,  # noqa: F811
) -> None:
    rid = shipped.releases["rolling"]
    rm = site.signed_in("rm")
    page = rm.get(f"/releases/{rid}").text
    for verb in ("rollout", "halt", "complete"):
        assert f'href="/releases/{rid}/rollout/{verb}/android"' in page
    assert "/rollout/resume/android" not in page
    assert "Raise to 5 %" in page
    raise_page = rm.get(f"/releases/{rid}/rollout/rollout/android").text
    assert "from 1 % to 5 % of users" in raise_page and 'name="to" value="5"' in raise_page
    confirm = rm.get(f"/releases/{rid}/rollout/halt/android")
    assert confirm.status_code == 200
    assert (
        f"Halt the Android staged rollout of {ROLLING} on Google Play at 1 %: no new users get it "
        "until it is resumed." in confirm.text
    )
    r = rm.post(
        f"/releases/{rid}/rollout/halt/android",
        data={"csrf_token": csrf_of(confirm.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    after = rm.get(f"/releases/{rid}").text
    assert "halted" in after and "rollout halt" in after  # the state and the audit trail
    assert f'href="/releases/{rid}/rollout/resume/android"' in after
    assert f'href="/releases/{rid}/rollout/halt/android"' not in after
    assert [e["operation"] for e in sim.requests()][-1] == "androidpublisher.edits.commit"
    # Halting again is not possible now: the confirmation and the POST say why.
    again = rm.get(f"/releases/{rid}/rollout/halt/android")
    assert again.status_code == 409 and "halted" in again.text
    r = rm.post(f"/releases/{rid}/rollout/halt/android", data={"csrf_token": csrf_of(after)})
    assert r.status_code == 409
    assert f"release {ROLLING} on android is halted; halt applies only when it is rolling_out" in r.text


def test_bad_ids_and_actions_answer_404(site: Site, gated: SeededReleases) -> None:
    client = site.signed_in("rm")
    rid = gated.releases["gated"]
    for path in (
        "/releases/999999",
        "/releases/0",
        f"/releases/{2**40}",
        f"/releases/{rid}/rollout/explode/android",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/releases/{rid}/rollout/halt/windows").status_code == 404
    assert client.get("/releases/abc").status_code == 422
    token = csrf_of(client.get(f"/releases/{rid}").text)
    r = client.post("/releases/999999/decide", data={"decision": "approve", "csrf_token": token})
    assert r.status_code == 404
    r = client.post(f"/releases/{rid}/decide", data={"decision": "ship", "csrf_token": token})
    assert r.status_code == 422


def test_hostile_text_renders_as_text(site: Site, gated: SeededReleases) -> None:
    client = site.signed_in("rm")
    for path in ("/releases", f"/releases/{gated.releases['gated']}"):
        html = client.get(path).text
        for raw in HOSTILE:
            assert raw not in html, f"{path} carries {raw!r} unescaped"
        assert "bob &lt;img src=x onerror=alert(1)&gt;&#34;&gt;&lt;script&gt;alert(2)" in html
    detail = client.get(f"/releases/{gated.releases['gated']}").text
    assert "crash on login &lt;img src=x onerror=alert(1)&gt;" in detail  # QA's comment
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", detail) and not re.search(r"\sstyle=", detail)
    assert XSS not in detail


def test_an_admin_approves_only_as_an_override_and_the_page_says_so(
    site: Site, gated: SeededReleases
) -> None:
    rid = gated.releases["gated"]
    admin = site.signed_in("admin")
    page = admin.get(f"/releases/{rid}").text
    r = admin.post(
        f"/releases/{rid}/decide",
        data={
            "decision": "approve",
            "role": "release_manager",
            "override_reason": "the release manager is on leave",
            "csrf_token": csrf_of(page),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    after = admin.get(f"/releases/{rid}").text
    assert "admin override" in after and "Override: the release manager is on leave" in after
    assert "passed" in _check(after, "release_manager_approval")
    r = admin.post(
        f"/releases/{rid}/decide", data={"decision": "approve", "role": "boss", "csrf_token": csrf_of(page)}
    )
    assert r.status_code == 422


def _platform(platform: str, state: str, **store: object) -> PlatformOut:
    return PlatformOut(
        platform=platform, state=state, reason=None, build_number=1, candidate=[], store=store or None
    )


def test_each_platform_is_offered_only_the_rollout_actions_its_state_allows() -> None:
    plan = RolloutPlan(stages=(1, 5, 20, 50, 100))

    def verbs(p: PlatformOut) -> list[str]:
        return [a.verb for a in rollout_actions("2.0.0", p, plan)]

    assert verbs(_platform("android", "rolling_out", fraction=0.2)) == ["rollout", "halt", "complete"]
    # At the last stage before 100 % the next step is releasing to everyone, offered once.
    assert verbs(_platform("android", "rolling_out", fraction=0.5)) == ["halt", "complete"]
    assert verbs(_platform("android", "halted", fraction=0.2)) == ["resume", "complete"]
    assert verbs(_platform("android", "approved_by_store")) == ["complete"]
    assert verbs(_platform("android", "waiting_for_gate")) == []
    assert verbs(_platform("android", "released", fraction=1.0)) == []
    ios = rollout_actions("2.0.0", _platform("ios", "rolling_out", rollout="in_progress", day=3), plan)
    assert [a.verb for a in ios] == ["halt", "complete"]  # Apple moves the phased release by day
    assert ios[0].label == "Pause"
    assert ios[0].statement.startswith("Pause the iOS phased release of 2.0.0 on the App Store on day 3")
