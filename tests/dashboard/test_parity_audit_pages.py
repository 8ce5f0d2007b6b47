"""The web parity board and the audit log as people meet them: web next to iOS and Android with
drift and verdicts, each release's parity decision with the web release it was checked against,
audit filters and pages, the JSON export, hostile text shown as text, who may read, and 4xx for
bad input."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from orchestrator.releases import service as releases
from orchestrator.releases.service import System
from orchestrator.tokens import create_token
from tests.dashboard.conftest import Site
from tests.dashboard.seed_parity import HOSTILE, ParitySeeded, seed_parity

ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def parity(site: Site) -> ParitySeeded:
    return seed_parity(site.ctx.db, site.ctx.store, site.ctx.settings.secret_key)


def rows(html: str, css_class: str) -> list[str]:
    """The text of each table body row of the table with `css_class`, tags stripped."""
    table = re.search(rf'<table class="{css_class}[^"]*">(.*?)</table>', html, re.S)
    assert table, f"no table {css_class}"
    body = "".join(part.split("</tbody>")[0] for part in table.group(1).split("<tbody>")[1:])
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in body.split("</tr>")[:-1]]


def test_the_board_shows_web_and_mobile_side_by_side_with_drift_and_verdicts(
    site: Site, parity: ParitySeeded
) -> None:
    html = site.signed_in("dev").get("/parity", params={"project": "atlas"}).text
    production = html.split('data-environment="production"')[1].split('data-environment="staging"')[0]
    assert 'Web <strong class="version">2026.12.1</strong>' in production and "api 2025-11" in production
    assert f"by web-ci {ESCAPED} (5 hours ago)" in production
    ios = production.split('data-platform="ios"')[1].split('data-platform="android"')[0]
    assert f'<a href="/releases/{parity.releases["4.2.0"]}" class="version">4.2.0</a>' in ios
    assert 'data-status="ready_to_submit"' in ios
    assert "1 web version behind (2026.12.1) for 5 hours" in ios
    assert 'data-status="passed"' in ios
    assert "production web 2026.12.1 (api 2025-11) provides api &gt;= 2025-11" in ios
    # Staging is not where the release's parity is decided: drift only.
    staging = html.split('data-environment="staging"')[1]
    assert "no parity policy for this environment" in staging


def test_each_release_shows_its_parity_decision_and_the_web_release_it_was_checked_against(
    site: Site, parity: ParitySeeded
) -> None:
    html = site.signed_in("qa").get("/parity", params={"project": "atlas"}).text
    decided = rows(html, "parity-decisions")
    assert len(decided) == 4  # two releases, two platforms each, newest first
    assert decided[0].startswith("4.2.0 active") and "android ready to submit" in decided[0]
    assert "passed production web 2026.12.1 (api 2025-11) provides api >= 2025-11" in decided[0].replace(
        "&gt;", ">"
    )
    assert "checked against production web 2026.12.1 (api 2025-11)" in decided[0]
    older = decided[2]
    assert older.startswith("4.1.0 superseded") and "android canceled" in older
    assert "pending needs api >= 2025-11, production web 2026.11.3 (api 2025-10)" in older.replace(
        "&gt;", ">"
    )
    assert "checked against production web 2026.11.3 (api 2025-10)" in older


def test_a_project_with_nothing_recorded_and_an_unknown_project(site: Site, parity: ParitySeeded) -> None:
    client = site.signed_in("dev")
    r = client.get("/parity", params={"project": "quiet"})
    assert r.status_code == 200
    assert "No web deployments recorded and no release asks for web parity yet." in r.text
    assert "No releases yet." in r.text
    everything = client.get("/parity").text
    assert '<h2 id="project-1">atlas</h2>' in everything and ">quiet</h2>" in everything
    assert ">shop</h2>" in everything
    r = client.get("/parity", params={"project": "nope"})
    assert r.status_code == 404 and "no project named &#39;nope&#39;" in r.text
    r = client.get("/parity", params={"project": "a\x00b"})
    assert r.status_code == 400 and "project must be a project&#39;s name" in r.text


def test_pages_carry_no_inline_script_or_style(site: Site, parity: ParitySeeded) -> None:
    client = site.signed_in("qa")
    for path in ("/parity", "/parity?project=atlas", "/audit"):
        r = client.get(path)
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), path
        assert not [a for a in _attributes(r.text) if a == "style" or a.startswith("on")], path


def _attributes(html: str) -> list[str]:
    names: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            names.extend(name for name, _ in attrs)

    Parser().feed(html)
    return names


def test_audit_lists_every_event_newest_first_and_filters(site: Site, parity: ParitySeeded) -> None:
    client = site.signed_in("qa")
    everything = rows(client.get("/audit").text, "audit-log")
    assert len(everything) == 10
    assert everything[0].endswith("instep system gate passed gate:ios atlas 4.2.0 platforms: ios")
    newest = parity.releases["4.2.0"]
    html = client.get(
        "/audit", params={"project": "atlas", "action": "approved", "release": str(newest)}
    ).text
    approved = rows(html, "audit-log")
    assert len(approved) == 2 and all("approved release 4.2.0" in r for r in approved)
    assert '<option value="approved" selected>approved</option>' in html
    assert f'name="release" inputmode="numeric" value="{newest}"' in html
    only = rows(client.get("/audit", params={"person": "rita"}).text, "audit-log")
    assert len(only) == 1 and "rita release manager approved" in only[0]
    assert "role: release_manager · comment: ok" in only[0]
    html = client.get("/audit", params={"person": "nobody"}).text
    assert "No audit events match these filters." in html
    # The export link carries the same filters.
    assert 'href="/audit/export.json?person=nobody"' in html


def test_audit_pages_older_events(site: Site, parity: ParitySeeded) -> None:
    client = site.signed_in("dev")
    with site.ctx.db.session() as s:
        project_id = releases.get_release(s, parity.releases["4.2.0"]).project_id
        for n in range(55):
            releases.audit(s, project_id, None, System(), "reminder", f"reminder {n}")
        s.commit()
    first = client.get("/audit", params={"action": "reminder"}).text
    assert len(rows(first, "audit-log")) == 50 and "reminder 54" in rows(first, "audit-log")[0]
    older = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).text
    left = [r.split("reminder ")[-1].split()[0] for r in rows(second, "audit-log")]
    assert left == ["4", "3", "2", "1", "0"]
    assert 'rel="next"' not in second and ">Newest</a>" in second


def test_export_downloads_every_matching_event_as_json(site: Site, parity: ParitySeeded) -> None:
    client = site.signed_in("dev")
    r = client.get("/audit/export.json", params={"project": "atlas", "person": f"web-ci {HOSTILE}"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["content-disposition"] == 'attachment; filename="instep-audit.json"'
    assert "x-instep-truncated" not in r.headers and r.headers["x-instep-events"] == "3"
    events = json.loads(r.text)
    assert [e["subject"] for e in events] == [
        "staging web 2026.12.0",
        "production web 2026.12.1",
        "production web 2026.11.3",
    ]
    assert {e["person"] for e in events} == {f"web-ci {HOSTILE}"}
    assert set(events[0]) == {
        "id", "project", "release_id", "release_version", "person", "role", "action", "subject", "details", "at"
    }  # fmt: skip
    # The API reads the same events through the same query.
    token = _token(site, "admin")
    api = site.client().get(
        "/api/audit",
        params={"project": "atlas", "person": f"web-ci {HOSTILE}"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert api.json()["events"] == events


def test_export_says_when_it_stopped_at_the_limit(
    site: Site, parity: ParitySeeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.releases import audit

    monkeypatch.setattr(audit, "MAX_EXPORT", 4)
    r = site.signed_in("dev").get("/audit/export.json")
    assert len(json.loads(r.text)) == 4 and r.headers["x-instep-events"] == "4"
    assert r.headers["x-instep-truncated"] == "only the newest 4 events; filter to export the rest"


def test_hostile_names_subjects_and_details_render_as_text(site: Site, parity: ParitySeeded) -> None:
    with site.ctx.db.session() as s:
        project_id = releases.get_release(s, parity.releases["4.2.0"]).project_id
        releases.audit(s, project_id, None, System(), "note", f"subject {HOSTILE}", {"version": HOSTILE})
        s.commit()
    client = site.signed_in("qa")
    for path in ("/audit", "/parity", "/parity?project=atlas", "/audit?person=" + HOSTILE):
        html = client.get(path).text
        assert "<img src=x" not in html, path
    audit_html = client.get("/audit").text
    assert f"quinn {ESCAPED}" in audit_html and f"comment: screens fine {ESCAPED}" in audit_html
    assert f"subject {ESCAPED}" in audit_html and f"version: {ESCAPED}" in audit_html
    assert f"by web-ci {ESCAPED}" in client.get("/parity").text


def test_who_may_read(site: Site, parity: ParitySeeded) -> None:
    anonymous = site.client()
    for path in ("/parity", "/audit", "/audit/export.json"):
        r = anonymous.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    # The web pipeline's narrow token records deployments; it does not read the dashboard.
    token = _token(site, "web_deployer")
    for path in ("/parity", "/audit", "/audit/export.json", "/api/audit"):
        r = site.client().get(path, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403, path
    for name in ("qa", "dev", "rm", "admin"):
        client = site.signed_in(name)
        assert client.get("/audit").status_code == 200 and client.get("/parity").status_code == 200


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"project": "nope"}, 404, "no project named &#39;nope&#39;"),
        ({"release": "999999"}, 404, "no release with id 999999"),
        ({"release": "abc"}, 400, "release must be a release id"),
        ({"release": str(2**31)}, 400, "release must be a release id"),
        ({"person": "a\x01b"}, 400, "person must be printable text"),
        ({"action": "x" * 60}, 400, "action must be printable text of at most 50 characters"),
    ],
)
def test_bad_filters_are_explained(
    site: Site, parity: ParitySeeded, params: dict[str, str], status: int, message: str
) -> None:
    client = site.signed_in("dev")
    for path in ("/audit", "/audit/export.json"):
        r = client.get(path, params=params)
        assert r.status_code == status and message in r.text, (path, r.text)
    assert client.get("/audit", params={"before": str(2**63)}).status_code == 422


def _token(site: Site, role: str) -> str:
    with site.ctx.db.session() as s:
        clear = create_token(s, role, f"{role}-bot")[1]
        s.commit()
    return clear
