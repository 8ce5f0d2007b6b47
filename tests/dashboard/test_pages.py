"""The pages as people meet them: runs with filters and pages, a run's jobs, tests and artifacts,
a job's log, review actions by role with CSRF, hostile text shown as text, a strict CSP."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from orchestrator.db.models import Job, Project, Review, Run
from orchestrator.runs import create_run
from tests.dashboard.conftest import Site, csrf_of
from tests.dashboard.seed import XSS

HOSTILE = ("<img src=x onerror", "<script>alert", '"><script>')


def _reviews(site: Site) -> int:
    with site.ctx.db.read_session() as s:
        return s.scalar(select(func.count(Review.id))) or 0


def _pages(site: Site) -> list[str]:
    s = site.seeded
    return [
        "/runs",
        f"/runs/{s.runs['failed']}",
        f"/jobs/{s.jobs['unit']}",
        f"/runs/{s.runs['review']}/review",
        f"/comparisons/{s.comparisons['promo']}",
        f"/comparisons/{s.comparisons['signin']}",
        "/devices",
        "/login",
    ]


def test_hostile_text_renders_as_text_everywhere(site: Site) -> None:
    client = site.signed_in("qa")
    for path in _pages(site):
        html = client.get(path).text
        for raw in HOSTILE:
            assert raw not in html, f"{path} carries {raw!r} unescaped"
    run = client.get(f"/runs/{site.seeded.runs['failed']}").text
    assert "&lt;img src=x onerror=alert(1)&gt;&#34;&gt;&lt;script&gt;alert(2)" in run  # branch, test name
    log = client.get(f"/jobs/{site.seeded.jobs['unit']}").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in log
    promo = client.get(f"/comparisons/{site.seeded.comparisons['promo']}").text
    assert "promo &lt;img src=x onerror=alert(1)&gt;" in promo


def test_pages_send_a_strict_csp_and_carry_no_inline_script_or_style(site: Site) -> None:
    client = site.signed_in("qa")
    for path in _pages(site):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert script_src.strip() == "'self'" and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in csp
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), f"{path} has an inline script"
        assert not re.search(r"\sstyle=", r.text), f"{path} has an inline style"
        handlers = _event_handler_attributes(r.text)
        assert not handlers, f"{path} has inline event handlers: {handlers}"


def _event_handler_attributes(html: str) -> list[str]:
    found: list[str] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.extend(f"{tag}.{name}" for name, _ in attrs if name.startswith("on"))
            if tag == "img" and any(name == "src" and value == "x" for name, value in attrs):
                found.append("img src=x")

    Parser().feed(html)
    return found


def test_runs_filter_by_status_branch_project_and_text(site: Site) -> None:
    client = site.signed_in("dev")
    s = site.seeded

    def ids(query: str) -> set[int]:
        return {int(x) for x in re.findall(r'data-run-id="(\d+)"', client.get(f"/runs?{query}").text)}

    assert ids("") == set(s.runs.values())
    assert ids("status=failed") == {s.runs["failed"]}
    assert ids("status=running&project=shop") == {s.runs["running"]}
    assert ids("branch=main") == {s.runs["running"], s.runs["review"]}
    assert ids("q=cccccc") == {s.runs["running"]}
    assert ids("q=onerror") == {s.runs["failed"]}
    assert client.get("/runs?project=nope").status_code == 404
    # The htmx filter asks for the table only.
    fragment = client.get(
        "/runs?status=failed", headers={"HX-Request": "true", "HX-Target": "runs-table"}
    ).text
    assert fragment.startswith('<div id="runs-table"') and "<html" not in fragment


def test_runs_are_paged_newest_first(site: Site) -> None:
    with site.ctx.db.session() as s:
        project = s.scalar(select(Project))
        for n in range(60):
            create_run(s, project, trigger="api", ref="refs/heads/bulk", sha=f"{n:040x}")
        s.commit()
    client = site.signed_in("dev")
    first = client.get("/runs?branch=bulk").text
    shown = [int(x) for x in re.findall(r'data-run-id="(\d+)"', first)]
    assert len(shown) == 50 and shown == sorted(shown, reverse=True)
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    rest = [int(x) for x in re.findall(r'data-run-id="(\d+)"', client.get(older).text)]
    assert len(rest) == 10 and max(rest) < min(shown)


def test_run_page_shows_jobs_by_stage_failures_first_and_flaky_marked(site: Site) -> None:
    html = site.signed_in("dev").get(f"/runs/{site.seeded.runs['failed']}").text
    assert html.index("<h3>unit</h3>") < html.index("<h3>build</h3>")
    # The run lists what needs attention; the job's page lists every test, failures first.
    assert re.findall(r'<tr class="test-(\w+)">', html) == ["failed", "flaky"]
    assert "1 failed, 1 flaky, 1 passed" in html
    job = site.signed_in("dev").get(f"/jobs/{site.seeded.jobs['unit']}").text
    assert re.findall(r'<tr class="test-(\w+)">', job) == ["failed", "flaky", "passed"]
    assert '<span class="flag" title="failed, then passed on a retry">flaky</span>' in html
    assert "1 test failed" in html  # the job's reason


def test_a_finished_jobs_log_is_coloured_safely_and_errors_are_marked(site: Site) -> None:
    html = site.signed_in("dev").get(f"/jobs/{site.seeded.jobs['unit']}").text
    assert '<span class="ansi-green">$ fastlane android test</span>' in html
    assert re.search(r'<span class="line log-error" id="L2"><span class="ansi-red">FAILED</span>', html)
    assert 'id="L1">running 2 tests' in html
    assert "\x1b" not in html


def _sse(body: str) -> list[dict[str, str]]:
    events = []
    for block in re.split(r"\r?\n\r?\n", body):
        fields: dict[str, str] = {}
        for line in re.split(r"\r?\n", block):
            name, sep, value = line.partition(": ")
            if sep and name in ("event", "id", "data"):
                fields[name] = value
        if fields:
            events.append(fields)
    return events


def _lines(events: list[dict[str, str]]) -> list[tuple[int, str, bool]]:
    out = []
    for e in events:
        if e.get("event") == "lines":
            data = json.loads(e["data"])
            out += [(data["from"] + n, html, err) for n, (html, err) in enumerate(data["lines"])]
            assert int(e["id"]) == data["from"] + len(data["lines"]) - 1
    return out


def test_live_log_streams_from_an_offset_as_server_sent_events(site: Site) -> None:
    client = site.signed_in("dev")
    job = site.seeded.jobs["running"]
    site.ctx.logs.append(job, ["\x1b[1mstep 2\x1b[0m", f"oops {XSS}", "error: lint failed"])
    with client.stream("GET", f"/live/jobs/{job}/log?from=1&max_seconds=1") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = _sse("".join(r.iter_text()))
    assert _lines(events) == [
        (1, '<span class="ansi-bold">step 2</span>', False),
        (2, "oops &lt;img src=x onerror=alert(1)&gt;&#34;&gt;&lt;script&gt;alert(2)", False),
        (3, "error: lint failed", True),
    ]
    assert events[-1] == {"event": "end", "data": "timeout"}
    # A reconnecting browser sends the last id it saw.
    with client.stream("GET", f"/live/jobs/{job}/log?max_seconds=1", headers={"Last-Event-ID": "2"}) as r:
        assert [n for n, _h, _e in _lines(_sse("".join(r.iter_text())))] == [3]


def test_live_log_of_a_finished_job_ends_with_its_state(site: Site) -> None:
    client = site.signed_in("dev")
    with client.stream("GET", f"/live/jobs/{site.seeded.jobs['unit']}/log?max_seconds=5") as r:
        events = _sse("".join(r.iter_text()))
    assert len(_lines(events)) == 5
    assert events[-1] == {"event": "end", "data": "failed"}


def test_api_log_stream_follows_from_last_event_id(site: Site) -> None:
    from orchestrator.tokens import create_token

    with site.ctx.db.session() as s:
        token = create_token(s, "developer", "ci")[1]
        s.commit()
    from fastapi.testclient import TestClient

    api = TestClient(site.app, headers={"Authorization": f"Bearer {token}"})
    with api.stream(
        "GET", f"/api/jobs/{site.seeded.jobs['unit']}/log/stream", headers={"Last-Event-ID": "2"}
    ) as r:
        body = "".join(r.iter_text())
    assert re.findall(r"^id: (\d+)", body, re.M) == ["3", "4"]
    assert body.endswith("event: end\ndata: failed\n\n")


def test_comparison_images_and_artifacts_open_with_a_session(site: Site) -> None:
    client = site.signed_in("dev")
    cid = site.seeded.comparisons["signin"]
    r = client.get(f"/api/comparisons/{cid}/images/candidate")
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    anonymous = site.client().get(f"/api/comparisons/{cid}/images/candidate")
    assert anonymous.status_code == 401


@pytest.mark.parametrize("role", ["dev", "rm"])
def test_who_may_not_review_is_not_offered_it_and_a_forged_post_changes_nothing(
    site: Site, role: str
) -> None:
    client = site.signed_in(role)
    cid = site.seeded.comparisons["signin"]
    page = client.get(f"/comparisons/{cid}").text
    assert 'id="approve"' not in page and 'id="reject"' not in page
    assert "Approve all" not in client.get(f"/runs/{site.seeded.runs['review']}/review").text
    r = client.post(f"/comparisons/{cid}/review", data={"decision": "approved", "csrf_token": csrf_of(page)})
    assert r.status_code == 403 and "may not do this" in r.text
    r = client.post(f"/runs/{site.seeded.runs['review']}/review", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 403
    assert _reviews(site) == 0


def test_a_review_post_without_or_with_a_wrong_csrf_token_is_refused(site: Site) -> None:
    client = site.signed_in("qa")
    cid = site.seeded.comparisons["signin"]
    page = client.get(f"/comparisons/{cid}").text
    assert 'id="approve"' in page
    assert client.post(f"/comparisons/{cid}/review", data={"decision": "approved"}).status_code == 403
    r = client.post(f"/comparisons/{cid}/review", data={"decision": "approved", "csrf_token": "0" * 64})
    assert r.status_code == 403
    r = client.post(
        f"/comparisons/{cid}/review", data={"decision": "approved"}, headers={"X-CSRF-Token": "nope"}
    )
    assert r.status_code == 403
    assert _reviews(site) == 0
    # Another person's token does not work either (it is bound to the session).
    other = csrf_of(site.signed_in("admin").get("/runs").text)
    assert (
        client.post(
            f"/comparisons/{cid}/review", data={"decision": "approved", "csrf_token": other}
        ).status_code
        == 403
    )
    assert _reviews(site) == 0


def test_qa_approves_one_with_htmx_and_the_history_shows_the_new_version(site: Site) -> None:
    client = site.signed_in("qa")
    cid = site.seeded.comparisons["signin"]
    csrf = csrf_of(client.get(f"/comparisons/{cid}").text)
    r = client.post(
        f"/comparisons/{cid}/review",
        data={"decision": "approved"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert r.status_code == 200 and r.text.startswith('<section id="review-panel"')
    assert "approved</span> by user:qa · baseline version 2" in r.text
    assert re.search(r"<td>v2</td><td>user:qa</td><td><a href=\"/runs/\d+\">", r.text)
    assert _reviews(site) == 1


def test_rejecting_with_a_comment_fails_the_screenshot_job_once_all_are_decided(site: Site) -> None:
    client = site.signed_in("qa")
    c = site.seeded.comparisons
    csrf = csrf_of(client.get(f"/comparisons/{c['signin']}").text)
    for name in ("cart", "promo", "settings"):
        assert (
            client.post(
                f"/comparisons/{c[name]}/review", data={"decision": "approved", "csrf_token": csrf}
            ).status_code
            == 200
        )
    r = client.post(
        f"/comparisons/{c['signin']}/review",
        data={"decision": "rejected", "comment": "header is red", "csrf_token": csrf},
    )
    assert r.status_code == 200 and "rejected" in r.text and "header is red" in r.text
    with site.ctx.db.read_session() as s:
        job = s.get(Job, site.seeded.jobs["screenshots"])
        run = s.get(Run, site.seeded.runs["review"])
        assert job.status == "failed" and run.status == "failed"


def test_approve_all_of_a_run(site: Site) -> None:
    client = site.signed_in("qa")
    review = f"/runs/{site.seeded.runs['review']}/review"
    page = client.get(review).text
    assert "Approve all 4" in page
    r = client.post(
        review, data={"csrf_token": csrf_of(page), "comment": "release 2"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert _reviews(site) == 4
    with site.ctx.db.read_session() as s:
        assert s.get(Run, site.seeded.runs["review"]).status == "succeeded"
    assert "0</strong> await a decision" in client.get(review).text


def test_cancel_and_rerun_are_offered_only_to_developers_and_release_managers(site: Site) -> None:
    running = f"/runs/{site.seeded.runs['running']}"
    qa = site.signed_in("qa")
    page = qa.get(running).text
    assert "Cancel run" not in page
    assert qa.post(f"{running}/cancel", data={"csrf_token": csrf_of(page)}).status_code == 403
    dev = site.signed_in("dev")
    page = dev.get(running).text
    assert "Cancel run" in page
    r = dev.post(f"{running}/cancel", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303
    with site.ctx.db.read_session() as s:
        assert s.get(Run, site.seeded.runs["running"]).cancel_requested
    failed = f"/runs/{site.seeded.runs['failed']}"
    page = dev.get(failed).text
    assert "Rerun failed jobs" in page
    r = dev.post(f"{failed}/rerun", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303
    new_id = int(r.headers["location"].rsplit("/", 1)[1])
    with site.ctx.db.read_session() as s:
        assert s.get(Run, new_id).created_by == "user:dev"
    assert ("plan", new_id) in site.dispatcher.sent


def test_unknown_and_huge_ids_are_not_found(site: Site) -> None:
    client = site.signed_in("dev")
    for path in (
        "/runs/999999",
        "/runs/99999999999999999999",
        "/jobs/424242",
        "/comparisons/99999999999999999999",
    ):
        assert client.get(path).status_code in (404, 422), path


def test_devices_page_lists_the_built_in_profiles(site: Site) -> None:
    html = site.signed_in("qa").get("/devices").text
    assert "pixel-8" in html and "iphone-15" in html and "No device is leased right now." in html
    assert "No device is quarantined." in html


def test_devices_page_shows_leases_with_their_job_and_quarantined_devices(site: Site) -> None:
    from device_farm.leases import QUARANTINE_AFTER_FAILURES, InMemoryLeaseStore

    store = site.ctx.extras["leases"] = InMemoryLeaseStore()
    store.acquire("pixel-8", 2, f"job-{site.seeded.jobs['running']}-attempt-1", 600)
    for _ in range(QUARANTINE_AFTER_FAILURES):
        store.record_health("iphone-15", False, f"simulator would not boot {XSS}")
    html = site.signed_in("qa").get("/devices").text
    assert (
        f'<a href="/jobs/{site.seeded.jobs["running"]}">job-{site.seeded.jobs["running"]}-attempt-1</a>'
        in html
    )
    assert "simulator would not boot &lt;img" in html and "<img src=x" not in html


def test_manifest_and_service_worker_are_served(site: Site) -> None:
    client = site.client()
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["start_url"] == "/runs" and manifest["display"] == "standalone"
    sw = client.get("/sw.js")
    assert (
        sw.status_code == 200
        and "/api/" in sw.text
        and sw.headers["content-type"].startswith("text/javascript")
    )


def test_a_refused_review_is_explained_in_the_panel(site: Site) -> None:
    client = site.signed_in("qa")
    cid = site.seeded.comparisons["orders"]  # unchanged: nothing to decide
    page = client.get(f"/comparisons/{cid}").text
    assert 'id="approve"' not in page and "Nothing to decide: the screen is unchanged." in page
    r = client.post(
        f"/comparisons/{cid}/review",
        data={"decision": "approved"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(page)},
    )
    assert r.status_code == 200 and 'role="alert"' in r.text and "there is nothing to approve" in r.text
    assert _reviews(site) == 0
    r = client.post(f"/comparisons/{cid}/review", data={"decision": "approved", "csrf_token": csrf_of(page)})
    assert r.status_code == 409 and "there is nothing to approve" in r.text
