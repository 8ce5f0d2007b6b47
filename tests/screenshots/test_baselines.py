"""Baselines per branch with fallback, history that is never lost, name validation, and the
run comparison on top of them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from screenshots.baselines import BaselineKey, BaselineRepository, InvalidName
from screenshots.blobstore import InvalidBlobKey, LocalBlobStore
from screenshots.diff import Status
from screenshots.rules import DiffSettings
from screenshots.stage import compare_run
from tests.screenshots.conftest import draw_screen, png_bytes

HOME = BaselineKey("shop", "android", "pixel-8", "en-US", "home")


@pytest.fixture
def repo(tmp_path: Path) -> BaselineRepository:
    ticks = iter(f"2025-01-01T00:00:{n:02d}+00:00" for n in range(60))
    return BaselineRepository(
        LocalBlobStore(tmp_path / "store"), default_branch="main", clock=lambda: next(ticks)
    )


@pytest.mark.parametrize("bad", ["../etc", "a/b", "a\\b", "..", "", "  ", ".hidden", "x\x00y", "a" * 201])
def test_names_that_could_act_as_paths_are_refused(bad: str) -> None:
    with pytest.raises(InvalidName, match="screen name"):
        BaselineKey("shop", "android", "pixel-8", "en-US", bad)


def test_artifact_names_follow_the_capture_convention() -> None:
    assert BaselineKey.from_artifact_name("shop", "android", "pixel-8/en-US/home.png") == HOME
    with pytest.raises(InvalidName, match="<device-profile>/<locale>/<screen>.png"):
        BaselineKey.from_artifact_name("shop", "android", "pixel-8/../home.png/x")
    with pytest.raises(InvalidName, match="'..'"):
        BaselineKey.from_artifact_name("shop", "android", "pixel-8/../home.png")


@pytest.mark.parametrize("bad", ["../main", "feature/../x", "/abs", "a//b", "feature/.x", "-x"])
def test_bad_branch_names_are_refused(repo: BaselineRepository, bad: str) -> None:
    with pytest.raises(InvalidName):
        repo.promote(HOME, bad, b"png", approved_by="qa", run_id="r1")


def test_branch_without_its_own_baseline_falls_back_to_the_default(repo: BaselineRepository) -> None:
    main_png = png_bytes(draw_screen("Main"))
    repo.promote(HOME, "main", main_png, approved_by="alice", run_id="run-1")
    found = repo.lookup(HOME, "feature/login")
    assert found is not None and found.branch == "main"
    assert repo.image("shop", found.version) == main_png


def test_approving_on_a_branch_does_not_touch_the_default(repo: BaselineRepository) -> None:
    main_png, feature_png = png_bytes(draw_screen("Main")), png_bytes(draw_screen("Feature"))
    repo.promote(HOME, "main", main_png, approved_by="alice", run_id="run-1")
    repo.promote(HOME, "feature/login", feature_png, approved_by="bob", run_id="run-2")
    feature = repo.lookup(HOME, "feature/login")
    main = repo.lookup(HOME, "main")
    assert (
        feature and feature.branch == "feature/login" and repo.image("shop", feature.version) == feature_png
    )
    assert main and repo.image("shop", main.version) == main_png


def test_every_version_is_kept_with_who_approved_it_and_from_which_run(repo: BaselineRepository) -> None:
    images = [png_bytes(draw_screen(title)) for title in ("One", "Two", "Three")]
    for n, image in enumerate(images, start=1):
        version, created = repo.promote(
            HOME, "main", image, approved_by=f"qa{n}", run_id=f"run-{n}", comment=f"c{n}"
        )
        assert created and version.version == n
    history = repo.history(HOME, "main")
    assert [(v.version, v.approved_by, v.run_id, v.comment) for v in history] == [
        (1, "qa1", "run-1", "c1"),
        (2, "qa2", "run-2", "c2"),
        (3, "qa3", "run-3", "c3"),
    ]
    # Older images are still retrievable: approving never destroyed them.
    assert [repo.image("shop", v) for v in history] == images
    assert history[0].approved_at < history[2].approved_at


def test_two_approvals_of_the_same_comparison_at_once_make_one_version(repo: BaselineRepository) -> None:
    image = png_bytes(draw_screen("Race"))
    barrier = threading.Barrier(2)
    results = []

    def approve(who: str) -> None:
        barrier.wait()
        results.append(repo.promote(HOME, "main", image, approved_by=who, run_id="run-7"))

    threads = [threading.Thread(target=approve, args=(who,)) for who in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(created for _, created in results) == [False, True]
    assert len(repo.history(HOME, "main")) == 1


def test_retired_screen_on_a_branch_does_not_fall_back(repo: BaselineRepository) -> None:
    repo.promote(HOME, "main", png_bytes(draw_screen()), approved_by="alice", run_id="run-1")
    repo.promote(HOME, "feature/no-home", None, approved_by="bob", run_id="run-2", comment="screen removed")
    assert repo.lookup(HOME, "feature/no-home") is None
    assert repo.lookup(HOME, "main") is not None


def test_blob_store_refuses_keys_escaping_its_root(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    for key in ("../x", "a/../../x", "/abs", "a//b"):
        with pytest.raises(InvalidBlobKey):
            store.put(key, b"x")


def test_first_run_on_a_branch_without_baselines_records_every_screen_as_new(
    repo: BaselineRepository,
) -> None:
    captured = {
        "pixel-8/en-US/home.png": png_bytes(draw_screen()),
        "pixel-8/en-US/orders.png": png_bytes(draw_screen("Orders")),
    }
    results = compare_run(
        repo, project="shop", platform="android", branch="main", captured=captured, settings=DiffSettings()
    )
    assert [(r.diff.name, r.diff.status) for r in results] == [
        ("pixel-8/en-US/home.png", Status.NEW),
        ("pixel-8/en-US/orders.png", Status.NEW),
    ]


def test_run_comparison_uses_branch_baselines_with_fallback(repo: BaselineRepository) -> None:
    orders = BaselineKey("shop", "android", "pixel-8", "en-US", "orders")
    settings_key = BaselineKey("shop", "android", "pixel-8", "en-US", "settings")
    repo.promote(HOME, "main", png_bytes(draw_screen()), approved_by="a", run_id="r1")
    repo.promote(orders, "main", png_bytes(draw_screen("Orders")), approved_by="a", run_id="r1")
    repo.promote(settings_key, "main", png_bytes(draw_screen("Settings")), approved_by="a", run_id="r1")
    repo.promote(orders, "feature/x", png_bytes(draw_screen("Orders v2")), approved_by="b", run_id="r2")
    captured = {
        "pixel-8/en-US/home.png": png_bytes(draw_screen()),
        "pixel-8/en-US/orders.png": png_bytes(draw_screen("Orders v2")),
        "pixel-8/en-US/profile.png": png_bytes(draw_screen("Profile")),
        "pixel-8/../evil.png": b"x",
    }
    results = {
        r.diff.name: r
        for r in compare_run(
            repo,
            project="shop",
            platform="android",
            branch="feature/x",
            captured=captured,
            settings=DiffSettings(),
        )
    }
    assert results["pixel-8/en-US/home.png"].diff.status is Status.UNCHANGED
    assert results["pixel-8/en-US/home.png"].baseline.branch == "main"
    assert results["pixel-8/en-US/orders.png"].diff.status is Status.UNCHANGED
    assert results["pixel-8/en-US/orders.png"].baseline.branch == "feature/x"
    assert results["pixel-8/en-US/profile.png"].diff.status is Status.NEW
    assert results["pixel-8/en-US/settings.png"].diff.status is Status.MISSING
    assert results["pixel-8/../evil.png"].diff.status is Status.ERROR
