"""One screen's comparison: statuses, the identical-bytes fast path, ignore regions, per-screen
rules, changed boxes and the decoded-size limit."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageDraw

from screenshots.diff import Status, compare_screens
from screenshots.pixelmatch import MatchOptions
from screenshots.png import decode_rgba
from screenshots.regions import Rect, changed_boxes
from screenshots.rules import DiffSettings, RulesError, ScreenRule, ScreenSettings, parse_rules
from tests.screenshots.conftest import bomb_png, draw_screen, header_only_png, png_bytes


def test_identical_bytes_are_unchanged_without_decoding() -> None:
    # The image data after the header is garbage: decoding would fail, so success proves the
    # fast path read only the header.
    broken = header_only_png(300, 600) + b"\x00\x00\x00\x04IDATjunkjunk"
    result = compare_screens("home.png", broken, broken, ScreenSettings())
    assert (result.status, result.diff_pixels, result.width, result.height) == (Status.UNCHANGED, 0, 300, 600)
    assert result.identical_bytes


def test_same_pixels_in_different_encodings_are_unchanged(screen_png: bytes) -> None:
    rgb = draw_screen().convert("RGB")
    result = compare_screens("home.png", screen_png, png_bytes(rgb), ScreenSettings())
    assert result.status is Status.UNCHANGED and not result.identical_bytes


def test_changed_text_is_counted_with_a_box_around_it_and_a_diff_image(screen_png: bytes) -> None:
    result = compare_screens(
        "home.png", screen_png, png_bytes(draw_screen("Basket")), ScreenSettings(), diff_image=True
    )
    assert result.status is Status.CHANGED and result.diff_pixels and result.diff_pixels > 20
    assert len(result.boxes) == 1
    box = result.boxes[0]
    assert 8 <= box.x and box.x + box.width <= 60 and 28 <= box.y and box.y + box.height <= 45
    assert box.pixels == result.diff_pixels
    assert result.diff_png is not None
    diff = decode_rgba(result.diff_png)
    red = (diff[..., :3] == (255, 0, 0)).all(axis=2)
    assert int(red.sum()) == result.diff_pixels


def test_status_bar_clock_is_ignored_with_a_region(screen_png: bytes) -> None:
    other_clock = draw_screen()
    ImageDraw.Draw(other_clock).text((4, 4), "10:02", fill=(255, 255, 255, 255))
    candidate = png_bytes(other_clock)
    assert compare_screens("home.png", screen_png, candidate, ScreenSettings()).status is Status.CHANGED
    ignoring = ScreenSettings(ignore=(Rect(0, 0, 180, 21),))
    result = compare_screens("home.png", screen_png, candidate, ignoring)
    assert (result.status, result.diff_pixels) == (Status.UNCHANGED, 0)


def test_region_reaching_past_the_edge_is_clipped(screen_png: bytes) -> None:
    changed = png_bytes(draw_screen("Basket"))
    result = compare_screens("a.png", screen_png, changed, ScreenSettings(ignore=(Rect(0, 0, 5000, 5000),)))
    assert result.status is Status.UNCHANGED


def test_different_sizes_are_a_size_mismatch_with_both_sizes() -> None:
    result = compare_screens(
        "a.png", png_bytes(draw_screen()), png_bytes(draw_screen(width=200)), ScreenSettings()
    )
    assert result.status is Status.SIZE_MISMATCH
    assert (result.baseline_size, result.candidate_size) == ((180, 320), (200, 320))
    assert result.to_json()["baseline_size"] == [180, 320]


def test_new_and_missing_screens(screen_png: bytes) -> None:
    assert compare_screens("a.png", None, screen_png, ScreenSettings()).status is Status.NEW
    missing = compare_screens("a.png", screen_png, None, ScreenSettings())
    assert (missing.status, missing.width, missing.height) == (Status.MISSING, 180, 320)


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        (b"", "empty file"),
        (b"hello, not an image\n", "not a PNG file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "truncated or corrupt"),
    ],
)
def test_bad_files_are_an_error_status_not_an_exception(
    screen_png: bytes, candidate: bytes, message: str
) -> None:
    result = compare_screens("pixel-8/en-US/home.png", screen_png, candidate, ScreenSettings())
    assert result.status is Status.ERROR
    assert message in (result.error or "")
    assert "candidate pixel-8/en-US/home.png" in (result.error or "")


def test_truncated_png_is_an_error(screen_png: bytes) -> None:
    truncated = screen_png[: len(screen_png) // 2]
    result = compare_screens("home.png", screen_png, truncated, ScreenSettings())
    assert result.status is Status.ERROR and "corrupt or truncated" in (result.error or "")


def test_decompression_bomb_is_refused_from_its_header() -> None:
    # Only the header exists: decoding would report truncation, so this message proves the size
    # was refused before any decoding.
    huge = header_only_png(20000, 20000)
    result = compare_screens("bomb.png", png_bytes(draw_screen()), huge, ScreenSettings())
    assert result.status is Status.ERROR
    assert "20000x20000" in (result.error or "") and "limit" in (result.error or "")


def test_limit_is_configurable_and_applies_to_real_images() -> None:
    bomb = bomb_png(3000, 3000)  # 9 MP of zeros, a few KB on disk
    result = compare_screens("big.png", bomb, bomb_png(3000, 2999), ScreenSettings(max_pixels=5_000_000))
    assert result.status is Status.ERROR and "3000x3000" in (result.error or "")


def test_per_screen_rules_pick_threshold_and_regions_by_glob() -> None:
    settings = DiffSettings(
        MatchOptions(threshold=0.1),
        (
            ScreenRule("pixel-8/*", ignore=(Rect(0, 0, 1080, 63),)),
            ScreenRule("*/charts.png", threshold=0.3),
        ),
    )
    charts = settings.for_screen("pixel-8/en-US/charts.png")
    assert charts.options.threshold == 0.3 and charts.ignore == (Rect(0, 0, 1080, 63),)
    other = settings.for_screen("iphone-15/en-US/home.png")
    assert other.options.threshold == 0.1 and other.ignore == ()


def test_rules_document_is_parsed_and_errors_name_the_entry() -> None:
    rules = parse_rules({"screens": [{"match": "*/home.png", "threshold": 0.2, "ignore": ["0,0,10,10"]}]})
    assert rules == (ScreenRule("*/home.png", 0.2, (Rect(0, 0, 10, 10),)),)
    with pytest.raises(RulesError, match=r"screens\[0\].ignore"):
        parse_rules({"screens": [{"match": "*", "ignore": ["0,0,10"]}]})
    with pytest.raises(RulesError, match=r"screens\[0\].threshold"):
        parse_rules({"screens": [{"match": "*", "threshold": 4}]})


def test_changed_boxes_join_nearby_pixels_and_keep_far_ones_apart() -> None:
    width = 100
    mask = np.zeros((100, width), dtype=bool)
    mask[10, 10:14] = True  # a word...
    mask[12, 20:24] = True  # ...and the next one, a few pixels away
    mask[80:83, 70] = True  # elsewhere
    boxes = changed_boxes(np.flatnonzero(mask), width)
    assert [(b.x, b.y, b.width, b.height, b.pixels) for b in boxes] == [(10, 10, 14, 3, 8), (70, 80, 1, 3, 3)]
