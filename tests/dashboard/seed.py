"""Real data for dashboard tests, made through the orchestrator's own services: a project, runs
with jobs in every state, a job log, test results, and a run whose screenshots wait for QA
(real PNGs drawn with Pillow, compared by the real diff engine against real baselines)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw
from sqlalchemy import select

from orchestrator.artifacts import ArtifactStore
from orchestrator.baselines import branch_of, repository
from orchestrator.db.models import Artifact, Comparison, Job, Run
from orchestrator.db.session import Database
from orchestrator.logbus import LogBus
from orchestrator.projects import create_project, get_project
from orchestrator.runs import create_run
from orchestrator.scheduler import advance, finish_attempt, start_attempt
from orchestrator.sealing import Sealer
from orchestrator.stages.screenshot_comparison import compare_captures, store_comparisons
from orchestrator.users import create_user
from screenshots.baselines import BaselineKey

XSS = '<img src=x onerror=alert(1)>"><script>alert(2)'
PASSWORDS = {
    "qa": "qa-password-1",
    "dev": "dev-password-1",
    "rm": "rm-password-1",
    "admin": "admin-password-1",
}
ROLES = {"qa": "qa", "dev": "developer", "rm": "release_manager", "admin": "admin"}


def screen(text: str, colour: tuple[int, int, int] = (47, 111, 237), shift: int = 0) -> bytes:
    img = Image.new("RGB", (180, 320), (246, 247, 251))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 179, 40), fill=colour)
    draw.rectangle((20 + shift, 120, 160 + shift, 160), fill=(29, 35, 48))
    draw.text((12, 60), text, fill=(29, 35, 48))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@dataclass
class Seeded:
    project: str = "shop"
    runs: dict[str, int] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    comparisons: dict[str, int] = field(default_factory=dict)


def _job(
    session, run: Run, key: str, stage: str, kind: str = "run", platform: str | None = None, **kw
) -> Job:  # type: ignore[no-untyped-def]
    job = Job(
        run_id=run.id,
        key=key,
        stage=stage,
        kind=kind,
        platform=platform,
        queue=kw.pop("queue", "default"),
        timeout_s=600,
        needs=kw.pop("needs", []),
        spec=kw.pop("spec", {}),
        **kw,
    )
    session.add(job)
    session.flush()
    return job


def users(db: Database) -> None:
    with db.session() as s:
        for name, password in PASSWORDS.items():
            create_user(s, name, ROLES[name], password)
        s.commit()


def seed(db: Database, store: ArtifactStore, logs: LogBus, secret_key: str, xss: bool = True) -> Seeded:
    """Users of every role, a failed run with test results and a log, and a run waiting for QA."""
    out = Seeded()
    users(db)
    with db.session() as s:
        project = create_project(
            s, sealer=Sealer(secret_key), name="shop", repo_url="https://github.com/acme/shop.git"
        )
        s.commit()
        # 1. A failed run on a hostile branch name, with a unit job whose test results and log
        #    carry the same hostile text.
        ref = f"refs/heads/feature/{XSS}" if xss else "refs/heads/feature/login"
        run = create_run(s, project, trigger="push", ref=ref, sha="b" * 40, created_by=XSS if xss else "dev")
        run.message = f"Fix checkout {XSS}\n\nThe body of the message." if xss else "Fix checkout"
        unit = _job(s, run, "unit-android", "unit", "lane", "android")
        build = _job(s, run, "build-android", "build", "lane", "android", needs=["unit-android"])
        advance(s, run.id)
        start_attempt(s, unit.id, 1, "worker-1")
        name = f"test_checkout {XSS}" if xss else "test_checkout"
        results = {
            "tests": [
                {
                    "suite": "unit",
                    "name": "test_cart",
                    "classname": "cart",
                    "duration_s": 0.1,
                    "status": "passed",
                    "message": None,
                },
                {
                    "suite": "unit",
                    "name": name,
                    "classname": "checkout",
                    "duration_s": 0.2,
                    "status": "failed",
                    "message": f"expected 3 got 2 {XSS if xss else ''}",
                },
            ],
            "suites": {
                "pixel-8": {
                    "tests": [
                        {
                            "id": "tests/test_flow.py::test_login",
                            "status": "flaky",
                            "quarantined": False,
                            "attempts": [
                                {"status": "failed", "duration_s": 1.0, "message": "timeout"},
                                {"status": "passed", "duration_s": 0.9, "message": None},
                            ],
                        }
                    ]
                }
            },
        }
        lines = [
            "\x1b[32m$ fastlane android test\x1b[0m",
            "running 2 tests",
            f"\x1b[31mFAILED\x1b[0m {name}",
            XSS if xss else "plain",
            "tests: 1 failed, 1 passed",
        ]
        logs.append(unit.id, lines)
        logs.close(unit.id)
        # Stored as the worker stores a finished job's log: an artifact of kind `log`.
        data = "".join(line + "\n" for line in lines).encode()
        key = f"runs/{run.id}/jobs/{unit.id}/log.txt"
        store.put_bytes(key, data)
        s.add(
            Artifact(
                run_id=run.id,
                job_id=unit.id,
                name="log.txt",
                kind="log",
                store_key=key,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                content_type="text/plain; charset=utf-8",
            )
        )
        report = b"<testsuite/>"
        store.put_bytes(f"runs/{run.id}/jobs/{unit.id}/files/report.xml", report)
        s.add(
            Artifact(
                run_id=run.id,
                job_id=unit.id,
                name=f"report {XSS if xss else ''}.xml",
                kind="file",
                store_key=f"runs/{run.id}/jobs/{unit.id}/files/report.xml",
                size=len(report),
                sha256=hashlib.sha256(report).hexdigest(),
                content_type="application/xml",
            )
        )
        finish_attempt(s, unit.id, 1, "failed", "1 test failed", exit_code=1, results=results)
        s.commit()
        out.runs["failed"] = run.id
        out.jobs["unit"] = unit.id
        out.jobs["build"] = build.id

        # 2. A run that is still running, with a job whose log grows.
        run2 = create_run(s, project, trigger="push", ref="refs/heads/main", sha="c" * 40, created_by="dev")
        lint = _job(s, run2, "lint", "lint")
        advance(s, run2.id)
        start_attempt(s, lint.id, 1, "worker-1")
        logs.append(lint.id, ["starting lint"])
        s.commit()
        out.runs["running"] = run2.id
        out.jobs["running"] = lint.id
    out.comparisons, out.runs["review"], out.jobs["screenshots"] = review_run(db, store, secret_key, xss)
    return out


def review_run(
    db: Database, store: ArtifactStore, secret_key: str, xss: bool = True
) -> tuple[dict[str, int], int, int]:
    """Baselines for three screens on main, then a run whose capture changed one, added one
    (with a hostile name when `xss`), dropped one, and kept one: it waits for QA."""
    repo = repository(store, "main")
    for name, png in {
        "signin": screen("Sign in"),
        "orders": screen("Orders"),
        "settings": screen("Settings"),
        "cart": screen("Cart"),
    }.items():
        repo.promote(
            BaselineKey("shop", "all", "pixel-8", "en-US", name),
            "main",
            png,
            approved_by="qa:seed",
            run_id="0",
            comment="first",
        )
    captured = {
        "pixel-8/en-US/signin.png": screen("Sign in", colour=(200, 60, 60), shift=8),
        "pixel-8/en-US/orders.png": screen("Orders"),
        "pixel-8/en-US/cart.png": screen("Cart", shift=14),
        f"pixel-8/en-US/{'promo ' + XSS if xss else 'promo'}.png": screen("Promo"),
    }
    with db.session() as s:
        project = get_project(s, "shop")
        run = create_run(s, project, trigger="push", ref="refs/heads/main", sha="d" * 40, created_by="dev")
        job = _job(
            s,
            run,
            "screenshots",
            "screenshots",
            "screenshots",
            queue="devices",
            spec={"devices": ["pixel-8"]},
        )
        advance(s, run.id)
        start_attempt(s, job.id, 1, "worker-1")
        branch = branch_of(run.ref, "main")
        prepared, verdict = compare_captures(
            store, project="shop", platform=None, branch=branch, default_branch="main", captured=captured
        )
        store_comparisons(s, job, run, branch, None, prepared)
        finish_attempt(s, job.id, 1, verdict.state.value, verdict.reason)
        s.commit()
        rows = s.scalars(select(Comparison).where(Comparison.run_id == run.id)).all()
        ids = {c.name.split("/")[-1].removesuffix(".png").split(" ")[0]: c.id for c in rows}
        return ids, run.id, job.id
