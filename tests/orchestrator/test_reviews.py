"""Screenshot comparisons and QA review through the API, on a real database and artifact store:
new screens wait, approvals promote to the branch baseline, rejections fail the stage."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from orchestrator.baselines import branch_of
from orchestrator.db.models import Event, Job, Review, Run
from orchestrator.projects import create_project
from orchestrator.runs import create_run
from orchestrator.scheduler import advance, finish_attempt, start_attempt
from orchestrator.sealing import Sealer
from orchestrator.stages.screenshot_comparison import compare_captures, store_comparisons
from tests.orchestrator.conftest import Api


def screen(text: str, shift: int = 0) -> bytes:
    img = Image.new("RGBA", (120, 200), (246, 247, 251, 255))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 119, 30), fill=(47, 111, 237, 255))
    draw.text((10 + shift, 60), text, fill=(29, 35, 48, 255))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


SCREENS = {"pixel-8/en-US/signin.png": screen("Sign in"), "pixel-8/en-US/orders.png": screen("Orders")}


@pytest.fixture
def api(settings, database) -> Api:  # type: ignore[no-untyped-def]
    api = Api(settings, database)
    with database.session() as s:
        create_project(
            s,
            sealer=Sealer("test-secret-key-0123456789"),
            name="shop",
            repo_url="https://github.com/acme/shop.git",
        )
        s.commit()
    return api


def capture_run(api: Api, captured: dict[str, bytes], ref: str = "refs/heads/main") -> tuple[int, int]:
    """A run whose screenshots job captured `captured`, stored as the executor stores it."""
    with api.ctx.db.session() as s:
        from orchestrator.projects import get_project

        project = get_project(s, "shop")
        run = create_run(s, project, trigger="push", ref=ref, sha="a" * 40)
        job = Job(
            run_id=run.id,
            key="screenshots",
            stage="screenshots",
            kind="screenshots",
            queue="devices",
            timeout_s=60,
            needs=[],
            spec={"devices": ["pixel-8"]},
        )
        s.add(job)
        s.flush()
        advance(s, run.id)
        start_attempt(s, job.id, 1, "w")
        branch = branch_of(ref, "main")
        prepared, verdict = compare_captures(
            api.ctx.store,
            project="shop",
            platform=None,
            branch=branch,
            default_branch="main",
            captured=captured,
        )
        store_comparisons(s, job, run, branch, None, prepared)
        finish_attempt(s, job.id, 1, verdict.state.value, verdict.reason)
        s.commit()
        return run.id, job.id


def status(api: Api, run_id: int) -> tuple[str, str, str | None]:
    with api.ctx.db.session() as s:
        run = s.get(Run, run_id)
        job = s.scalar(select(Job).where(Job.run_id == run_id))
        return run.status, job.status, job.reason


def comparisons(api: Api, run_id: int) -> dict[str, dict]:
    r = api.client.get(f"/api/runs/{run_id}/comparisons", headers=api.as_("developer"))
    assert r.status_code == 200, r.text
    return {c["name"]: c for c in r.json()}


def test_first_run_waits_then_approval_makes_baselines(api: Api) -> None:
    run_id, _job = capture_run(api, SCREENS)
    assert status(api, run_id) == ("waiting", "waiting", "2 of 2 screenshots await review (2 new)")
    found = comparisons(api, run_id)
    assert {c["status"] for c in found.values()} == {"new"}
    signin = found["pixel-8/en-US/signin.png"]
    png = api.client.get(signin["images"]["candidate"], headers=api.as_("qa"))
    assert png.status_code == 200 and png.content == SCREENS["pixel-8/en-US/signin.png"]
    assert (
        api.client.get(signin["images"]["thumbnail"], headers=api.as_("qa")).headers["content-type"]
        == "image/png"
    )

    denied = api.client.post(
        f"/api/comparisons/{signin['id']}/review", json={"decision": "approved"}, headers=api.as_("developer")
    )
    assert denied.status_code == 403
    r = api.client.post(
        f"/api/comparisons/{signin['id']}/review",
        json={"decision": "approved", "comment": "ok"},
        headers=api.as_("qa"),
    )
    assert r.status_code == 200 and r.json()["reviews"][0]["baseline_version"] == 1
    assert status(api, run_id)[:2] == ("waiting", "waiting")
    r = api.client.post(f"/api/runs/{run_id}/review", json={"decision": "approved"}, headers=api.as_("qa"))
    assert r.json()["reviewed"] == [found["pixel-8/en-US/orders.png"]["id"]]
    assert status(api, run_id) == ("succeeded", "succeeded", "all 2 screenshot changes approved")
    history = api.client.get(
        "/api/projects/shop/baselines/pixel-8/en-US/signin", headers=api.as_("qa")
    ).json()
    assert [(v["version"], v["approved_by"], v["run_id"]) for v in history["versions"]] == [
        (1, "token:qa", str(run_id))
    ]

    # The next run on the branch compares against those baselines: nothing changed, no review.
    again, _ = capture_run(api, SCREENS)
    assert status(api, again)[:2] == ("succeeded", "succeeded")
    assert {c["status"] for c in comparisons(api, again).values()} == {"unchanged"}


def test_a_changed_screen_can_be_rejected_and_fails_the_stage(api: Api) -> None:
    first, _ = capture_run(api, SCREENS)
    api.client.post(f"/api/runs/{first}/review", json={"decision": "approved"}, headers=api.as_("qa"))
    changed = {**SCREENS, "pixel-8/en-US/orders.png": screen("Orders", shift=6)}
    run_id, _ = capture_run(api, changed, ref="refs/heads/feature/x")
    orders = comparisons(api, run_id)["pixel-8/en-US/orders.png"]
    assert orders["status"] == "changed" and orders["diff_pixels"] > 0 and orders["baseline_version"] == 1
    assert orders["changed_boxes"], "the changed area is reported"
    diff = api.client.get(orders["images"]["diff"], headers=api.as_("qa"))
    assert diff.status_code == 200 and diff.content.startswith(b"\x89PNG")
    r = api.client.post(
        f"/api/comparisons/{orders['id']}/review",
        json={"decision": "rejected", "comment": "text moved"},
        headers=api.as_("qa"),
    )
    assert r.status_code == 200
    run_status, job_status, reason = status(api, run_id)
    assert (run_status, job_status) == ("failed", "failed")
    assert reason == "orders (all, pixel-8, en-US) rejected by token:qa: text moved"
    # The rejected image never became a baseline, on the feature branch or on main.
    history = api.client.get(
        "/api/projects/shop/baselines/pixel-8/en-US/orders",
        params={"branch": "feature/x"},
        headers=api.as_("qa"),
    ).json()
    assert history["versions"] == []


def test_approving_a_superseded_comparison_is_refused_with_the_reason(api: Api) -> None:
    old, _ = capture_run(api, SCREENS)
    new, _ = capture_run(api, SCREENS)
    stale = comparisons(api, old)["pixel-8/en-US/signin.png"]
    r = api.client.post(
        f"/api/comparisons/{stale['id']}/review", json={"decision": "approved"}, headers=api.as_("qa")
    )
    assert r.status_code == 409
    assert "superseded by run #2" in r.json()["detail"]
    unchanged = comparisons(api, new)["pixel-8/en-US/signin.png"]
    r = api.client.post(
        f"/api/comparisons/{unchanged['id']}/review", json={"decision": "rejected"}, headers=api.as_("qa")
    )
    assert r.status_code == 200, "the newest run's comparison can be reviewed"


def test_two_qa_users_approving_at_once_make_one_baseline_version(api: Api) -> None:
    run_id, _ = capture_run(api, SCREENS)
    target = comparisons(api, run_id)["pixel-8/en-US/signin.png"]["id"]
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def approve() -> None:
        barrier.wait()
        r = api.client.post(
            f"/api/comparisons/{target}/review", json={"decision": "approved"}, headers=api.as_("qa")
        )
        answers.append(r.status_code)

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [200, 200]
    history = api.client.get(
        "/api/projects/shop/baselines/pixel-8/en-US/signin", headers=api.as_("qa")
    ).json()
    assert len(history["versions"]) == 1
    with api.ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Review).where(Review.comparison_id == target)) == 2
        audit = s.scalars(select(Event).where(Event.subject == "review pixel-8/en-US/signin.png")).all()
        assert len(audit) == 2 and all(e.to_status == "approved" for e in audit)


def test_names_that_could_escape_the_store_are_refused(api: Api) -> None:
    r = api.client.get("/api/projects/shop/baselines/pixel-8/..%2F..%2Fetc/passwd", headers=api.as_("qa"))
    assert r.status_code in (404, 422)
    r = api.client.get("/api/projects/shop/baselines/pixel-8/en-US/.hidden", headers=api.as_("qa"))
    assert r.status_code == 422 and "hidden" in r.json()["detail"]
    run_id, _ = capture_run(api, {"pixel-8/en-US/../../x.png": screen("x")})
    assert status(api, run_id)[:2] == ("failed", "failed")
