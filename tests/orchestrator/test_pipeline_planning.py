"""Planning a pushed commit: whatever its instep.yml holds (or whatever goes wrong while planning),
the run ends `failed` with a reason that says why; it never stays `queued` without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.db.models import Run
from orchestrator.pipeline import REASON_ISSUES, plan_queued_run
from orchestrator.projects import create_project
from orchestrator.runs import create_run
from tests.conftest import Repo
from tests.orchestrator.conftest import Api

HEADER = "version: 1\nplatforms: {android: {}}\nstages:\n"


def laughs(levels: int) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    names = "abcdefghijklmnop"
    for prev, name in zip(names[: levels - 1], names[1:levels], strict=True):
        text += f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    return text


def queued_run(api: Api, repo: Repo, files: dict[str, str | bytes]) -> int:
    for name, content in files.items():
        path = repo.work / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    sha = repo.commit({})
    with api.ctx.db.session() as s:
        project = create_project(s, sealer=api.ctx.sealer, name="shop", repo_url=repo.url)
        run = create_run(s, project, trigger="push", ref="refs/heads/main", sha=sha)
        s.commit()
        return run.id


def planned(api: Api, run_id: int) -> tuple[str, str | None, int]:
    plan_queued_run(api.ctx, run_id)
    with api.ctx.db.session() as s:
        run = s.get(Run, run_id)
        assert run is not None
        return run.status, run.reason, len(run.jobs)


BAD_FILES = {
    "billion-laughs-6": (laughs(6), "instep.yml:6:8: the file holds more than 100,000 keys and values"),
    "billion-laughs-9": (laughs(9), "instep.yml:6:8: the file holds more than 100,000 keys and values"),
    "self-alias": ("x: &x [*x]\n", "instep.yml:1:8: alias *x refers to the value it is part of"),
    "nested-20000": (
        "x: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "instep.yml:1:35: lists and mappings nest more than 32 levels deep",
    ),
    "not-utf8": (b"version: 1\nenv: {A: caf\xe9}\n", "instep.yml:2:1: the file is not UTF-8 text"),
    "71150-stages": (
        HEADER
        + "".join(
            f"  stage-{i:05}:\n    run: ./gradlew test-shard-{i:05}\n    needs: stage-{i - 1:05}\n"
            for i in range(71_150)
        ),
        "instep.yml:1:1: the file is 5,",
    ),
}
assert len(BAD_FILES["71150-stages"][0]) > 5_000_000


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_hostile_pipeline_fails_the_run_with_a_positioned_reason(api: Api, repo: Repo, case: str) -> None:
    text, expected = BAD_FILES[case]
    status, reason, jobs = planned(api, queued_run(api, repo, {"instep.yml": text}))
    assert (status, jobs) == ("failed", 0)
    assert reason is not None and reason.startswith("invalid instep.yml:\n")
    assert expected in reason


def test_a_reason_quotes_the_first_problems_and_counts_the_rest(api: Api, repo: Repo) -> None:
    stages = "".join(f"  s{i}: {{run: x, needs: [ghost{i}]}}\n" for i in range(50))
    status, reason, _ = planned(api, queued_run(api, repo, {"instep.yml": HEADER + stages}))
    assert status == "failed" and reason is not None
    lines = reason.splitlines()
    assert lines[0] == "invalid instep.yml:"
    assert lines[1].startswith("instep.yml:4:") and "needs 'ghost0', which is not a stage" in lines[1]
    assert len(lines) == 1 + REASON_ISSUES + 1
    assert (
        lines[-1] == f"... and {50 - REASON_ISSUES} more (run `instep validate` on the file to see them all)"
    )


def test_an_unexpected_error_while_planning_still_ends_the_run(
    api: Api, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the planner tripped")

    monkeypatch.setattr("orchestrator.pipeline.plan_run", broken)
    status, reason, _ = planned(
        api, queued_run(api, repo, {"instep.yml": HEADER + "  unit: {run: make test}\n"})
    )
    assert status == "failed"
    assert reason == (
        "planning failed: RuntimeError: the planner tripped "
        "(an Instep bug; the worker's log has the traceback)"
    )


def test_a_valid_pipeline_is_still_planned(api: Api, repo: Repo) -> None:
    text = HEADER + "  unit: {run: make test}\n  build: {lane: build, needs: [unit]}\n"
    status, reason, jobs = planned(api, queued_run(api, repo, {"instep.yml": text}))
    assert (status, jobs) != ("failed", 0), reason
    assert jobs == 2


def test_a_commit_without_a_pipeline_says_so(api: Api, repo: Repo, tmp_path: Path) -> None:
    status, reason, _ = planned(api, queued_run(api, repo, {"README.md": "hello\n"}))
    assert status == "failed" and reason is not None
    assert reason.startswith("no instep.yml at the root of commit ")


def test_the_commit_message_is_kept_with_the_run_searchable_and_carried_to_a_rerun(
    api: Api, repo: Repo
) -> None:
    from orchestrator.runs import list_runs, rerun_failed

    text = HEADER + "  unit: {run: make test}\n"
    (repo.work / "instep.yml").write_text(text)
    repo.commit({}, "Fix the checkout total\n\nRounding happened twice.")
    with api.ctx.db.session() as s:
        project = create_project(s, sealer=api.ctx.sealer, name="shop", repo_url=repo.url)
        sha = repo.commit({"instep.yml": text + "  lint: {run: make lint}\n"}, "Add <b>lint</b> & more")
        first = create_run(s, project, trigger="push", ref="refs/heads/main", sha=sha)
        s.commit()
        run_id = first.id
    planned(api, run_id)
    shown = api.client.get(f"/api/runs/{run_id}", headers=api.as_("developer")).json()
    assert shown["message"] == "Add <b>lint</b> & more"
    with api.ctx.db.session() as s:
        run = s.get(Run, run_id)
        assert run is not None
        assert [r.id for r in list_runs(s, text="<b>LINT</b>")] == [run_id]
        assert list_runs(s, text="rounding") == []
        run.status = "failed"  # as if its jobs had failed: a rerun is allowed
        again = rerun_failed(s, run, created_by="dev")
        s.commit()
        assert again.message == "Add <b>lint</b> & more"
