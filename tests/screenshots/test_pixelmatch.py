"""The engine against pixelmatch 7.2.0: its own test vectors, a slow reference written here from
the algorithm description, and the PyPI port on opaque images."""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pixelmatch import pixelmatch as pypi_pixelmatch

from screenshots.pixelmatch import InvalidMatchOptions, MatchOptions, pixelmatch, pixelmatch_bytes
from tests.screenshots.conftest import FIXTURES, load_rgba, match_kwargs, upstream_vectors


@pytest.fixture(params=["sibling-maps", "sibling-lookups"])
def sibling_strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with both ways of answering hasManySiblings (whole-image maps or per pixel)."""
    engine = importlib.import_module("screenshots.pixelmatch")
    monkeypatch.setattr(engine, "_MAP_FRACTION", 10**12 if request.param == "sibling-maps" else 0)
    return request.param


@pytest.mark.parametrize("vector", upstream_vectors(), ids=lambda v: f"{v['a']}-{v['b']}-{v['diff']}")
def test_upstream_vectors_give_the_same_count_and_diff_image(
    vector: dict[str, Any], sibling_strategy: str
) -> None:
    img1, img2 = load_rgba(FIXTURES / vector["a"]), load_rgba(FIXTURES / vector["b"])
    result = pixelmatch(img1, img2, MatchOptions(**match_kwargs(vector["options"])))
    assert result.diff_pixels == vector["expected"]
    expected = load_rgba(FIXTURES / vector["diff"])
    assert result.output is not None
    mismatched = np.argwhere((result.output != expected).any(axis=2))
    assert mismatched.size == 0, (
        f"{len(mismatched)} diff-image pixels differ, first at (y, x) {mismatched[:3].tolist()}"
    )


def test_bytes_interface_matches_upstream_vector() -> None:
    img1, img2 = load_rgba(FIXTURES / "3a.png"), load_rgba(FIXTURES / "3b.png")
    height, width = img1.shape[:2]
    count, diff = pixelmatch_bytes(
        img1.tobytes(), img2.tobytes(), width, height, MatchOptions(threshold=0.05)
    )
    assert count == 212
    assert diff == load_rgba(FIXTURES / "3diff.png").tobytes()


def test_bytes_interface_refuses_wrong_length() -> None:
    with pytest.raises(InvalidMatchOptions, match="does not match 2x2"):
        pixelmatch_bytes(b"\0" * 16, b"\0" * 12, 2, 2)


def test_counts_only_mode_returns_no_image_and_the_same_count() -> None:
    img1, img2 = load_rgba(FIXTURES / "4a.png"), load_rgba(FIXTURES / "4b.png")
    result = pixelmatch(img1, img2, MatchOptions(threshold=0.05), output=False)
    assert result.output is None
    assert result.diff_pixels == 36049
    assert result.diff_indices.size == 36049


@pytest.mark.parametrize("bad", [{"threshold": 1.5}, {"alpha": -0.1}, {"diff_color": (256, 0, 0)}])
def test_out_of_range_options_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidMatchOptions):
        MatchOptions(**bad)


# --- a slow reference, transcribed from the algorithm (looping is fine: it is the reference) ---


def _ref_color_delta(img1: bytes, img2: bytes, k: int, m: int, y_only: bool) -> float:
    r1, g1, b1, a1 = img1[k : k + 4]
    r2, g2, b2, a2 = img2[m : m + 4]
    dr, dg, db, da = r1 - r2, g1 - g2, b1 - b2, a1 - a2
    if not dr and not dg and not db and not da:
        return 0
    if a1 < 255 or a2 < 255:
        rb = 48 + 159 * (k % 2)
        gb = 48 + 159 * (int(k / 1.618033988749895) % 2)
        bb = 48 + 159 * (int(k / 2.618033988749895) % 2)
        dr = (r1 * a1 - r2 * a2 - rb * da) / 255
        dg = (g1 * a1 - g2 * a2 - gb * da) / 255
        db = (b1 * a1 - b2 * a2 - bb * da) / 255
    y = dr * 0.29889531 + dg * 0.58662247 + db * 0.11448223
    if y_only:
        return y
    i = dr * 0.59597799 - dg * 0.27417610 - db * 0.32180189
    q = dr * 0.21147017 - dg * 0.52261711 + db * 0.31114694
    delta = 0.5053 * y * y + 0.299 * i * i + 0.1957 * q * q
    return -delta if y > 0 else delta


def _ref_many_siblings(words: list[int], x1: int, y1: int, w: int, h: int) -> bool:
    x0, y0, x2, y2 = max(x1 - 1, 0), max(y1 - 1, 0), min(x1 + 1, w - 1), min(y1 + 1, h - 1)
    zeroes = 1 if x1 in (x0, x2) or y1 in (y0, y2) else 0
    for x in range(x0, x2 + 1):
        for y in range(y0, y2 + 1):
            if x == x1 and y == y1:
                continue
            zeroes += words[y * w + x] == words[y1 * w + x1]
            if zeroes > 2:
                return True
    return False


def _ref_antialiased(img: bytes, x1: int, y1: int, w: int, h: int, a32: list[int], b32: list[int]) -> bool:
    x0, y0, x2, y2 = max(x1 - 1, 0), max(y1 - 1, 0), min(x1 + 1, w - 1), min(y1 + 1, h - 1)
    pos = y1 * w + x1
    zeroes = 1 if x1 in (x0, x2) or y1 in (y0, y2) else 0
    lo = hi = 0.0
    lo_x = lo_y = hi_x = hi_y = 0
    for x in range(x0, x2 + 1):
        for y in range(y0, y2 + 1):
            if x == x1 and y == y1:
                continue
            delta = _ref_color_delta(img, img, pos * 4, (y * w + x) * 4, True)
            if delta == 0:
                zeroes += 1
                if zeroes > 2:
                    return False
            elif delta < lo:
                lo, lo_x, lo_y = delta, x, y
            elif delta > hi:
                hi, hi_x, hi_y = delta, x, y
    if lo == 0 or hi == 0:
        return False
    return (_ref_many_siblings(a32, lo_x, lo_y, w, h) and _ref_many_siblings(b32, lo_x, lo_y, w, h)) or (
        _ref_many_siblings(a32, hi_x, hi_y, w, h) and _ref_many_siblings(b32, hi_x, hi_y, w, h)
    )


def _ref_gray(img: bytes, i: int, alpha: float, out: bytearray) -> None:
    val = (
        255
        + (img[i] * 0.29889531 + img[i + 1] * 0.58662247 + img[i + 2] * 0.11448223 - 255)
        * alpha
        * img[i + 3]
        / 255
    )
    out[i : i + 4] = bytes([int(val) % 256] * 3 + [255])


def reference_pixelmatch(img1: bytes, img2: bytes, w: int, h: int, o: MatchOptions) -> tuple[int, bytes]:
    out = bytearray(w * h * 4)
    a32 = [int.from_bytes(img1[i : i + 4], "little") for i in range(0, len(img1), 4)]
    b32 = [int.from_bytes(img2[i : i + 4], "little") for i in range(0, len(img2), 4)]
    if a32 == b32:
        if not o.diff_mask:
            for i in range(w * h):
                _ref_gray(img1, 4 * i, o.alpha, out)
        return 0, bytes(out)
    max_delta = 35215 * o.threshold * o.threshold
    alt = o.diff_color_alt or o.diff_color
    diff = 0
    for y in range(h):
        for x in range(w):
            i = y * w + x
            pos = i * 4
            delta = 0 if a32[i] == b32[i] else _ref_color_delta(img1, img2, pos, pos, False)
            if abs(delta) > max_delta:
                aa = _ref_antialiased(img1, x, y, w, h, a32, b32) or _ref_antialiased(
                    img2, x, y, w, h, b32, a32
                )
                if not o.include_aa and aa:
                    if not o.diff_mask:
                        out[pos : pos + 4] = bytes([*o.aa_color, 255])
                else:
                    out[pos : pos + 4] = bytes([*(alt if delta < 0 else o.diff_color), 255])
                    diff += 1
            elif not o.diff_mask:
                _ref_gray(img1, pos, o.alpha, out)
    return diff, bytes(out)


# A small palette makes equal neighbours, ties between extremes and anti-aliasing likely.
_PALETTE = [
    (0, 0, 0, 255),
    (255, 255, 255, 255),
    (128, 128, 128, 255),
    (120, 130, 140, 255),
    (200, 40, 40, 255),
    (40, 200, 40, 128),
    (10, 10, 200, 0),
    (255, 255, 255, 64),
]


@st.composite
def image_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    w = draw(st.integers(1, 7))
    h = draw(st.integers(1, 7))
    if draw(st.booleans()):
        colours = st.sampled_from(_PALETTE) | st.tuples(*[st.integers(0, 255)] * 4)
    else:  # three opaque grays: many equal neighbours and tied extremes
        colours = st.sampled_from([(0, 0, 0, 255), (128, 128, 128, 255), (255, 255, 255, 255)])
    img1 = np.array(draw(st.lists(colours, min_size=w * h, max_size=w * h)), dtype=np.uint8).reshape(h, w, 4)
    # The second image is mostly the first with some pixels replaced, like real screenshots.
    changed = draw(st.lists(st.tuples(st.integers(0, h - 1), st.integers(0, w - 1), colours), max_size=w * h))
    img2 = img1.copy()
    for y, x, colour in changed:
        img2[y, x] = colour
    return img1, img2


options_strategy = st.builds(
    MatchOptions,
    threshold=st.sampled_from([0.0, 0.01, 0.05, 0.1, 0.3, 1.0]),
    include_aa=st.booleans(),
    alpha=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    diff_color_alt=st.sampled_from([None, (0, 255, 0)]),
    diff_mask=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(pair=image_pairs(), options=options_strategy)
def test_engine_equals_the_reference_on_random_small_images(
    pair: tuple[np.ndarray, np.ndarray], options: MatchOptions
) -> None:
    img1, img2 = pair
    h, w = img1.shape[:2]
    expected_count, expected_image = reference_pixelmatch(img1.tobytes(), img2.tobytes(), w, h, options)
    result = pixelmatch(img1, img2, options)
    assert result.diff_pixels == expected_count
    assert result.output is not None and result.output.tobytes() == expected_image
    assert result.diff_indices.size == expected_count


def test_antialiasing_tie_goes_to_the_first_neighbour_in_visiting_order(sibling_strategy: str) -> None:
    # Centre (1,1) turns black. In img1 its darkest neighbours tie; the reference keeps the first
    # one met (x outer, y inner), which decides the anti-aliasing answer: this pixel counts.
    # Keeping the last of the tied neighbours instead gives 0.
    grays = [[0, 128, 0, 255], [255, 128, 255, 128], [255, 128, 255, 255], [0, 0, 128, 255]]
    img1 = np.array([[(v, v, v, 255) for v in row] for row in grays], dtype=np.uint8)
    img2 = img1.copy()
    img2[1, 1] = (0, 0, 0, 255)
    expected_count, expected_image = reference_pixelmatch(
        img1.tobytes(), img2.tobytes(), 4, 4, MatchOptions()
    )
    assert expected_count == 1
    result = pixelmatch(img1, img2)
    assert result.diff_pixels == 1
    assert result.output is not None and result.output.tobytes() == expected_image


def _opaque(image: np.ndarray) -> np.ndarray:
    opaque = image.copy()
    opaque[..., 3] = 255
    return opaque


@pytest.mark.parametrize(
    ("a", "b", "threshold"),
    [("1a.png", "1b.png", 0.05), ("3a.png", "3b.png", 0.05), ("6a.png", "6b.png", 0.1)],
)
def test_counts_equal_the_pypi_port_on_opaque_images(a: str, b: str, threshold: float) -> None:
    img1, img2 = _opaque(load_rgba(FIXTURES / a)), _opaque(load_rgba(FIXTURES / b))
    h, w = img1.shape[:2]
    output = bytearray(w * h * 4)
    expected = pypi_pixelmatch(img1.tobytes(), img2.tobytes(), w, h, output, threshold=threshold)
    result = pixelmatch(img1, img2, MatchOptions(threshold=threshold))
    assert result.diff_pixels == expected
    # Same pixels painted as differences and as anti-aliasing (grays may differ by rounding: the
    # port multiplies alpha differently).
    ours = result.output
    assert ours is not None
    theirs = np.frombuffer(bytes(output), dtype=np.uint8).reshape(h, w, 4)
    for colour in ((255, 0, 0), (255, 255, 0)):
        assert np.array_equal((ours[..., :3] == colour).all(axis=2), (theirs[..., :3] == colour).all(axis=2))


@settings(max_examples=60, deadline=None)
@given(pair=image_pairs(), threshold=st.sampled_from([0.0, 0.05, 0.1, 0.5]), include_aa=st.booleans())
def test_counts_equal_the_pypi_port_on_random_opaque_images(
    pair: tuple[np.ndarray, np.ndarray], threshold: float, include_aa: bool
) -> None:
    img1, img2 = (_opaque(p) for p in pair)
    h, w = img1.shape[:2]
    expected = pypi_pixelmatch(
        img1.tobytes(), img2.tobytes(), w, h, None, threshold=threshold, includeAA=include_aa
    )
    assert (
        pixelmatch(
            img1, img2, MatchOptions(threshold=threshold, include_aa=include_aa), output=False
        ).diff_pixels
        == expected
    )


def test_random_noise_equals_the_reference(sibling_strategy: str) -> None:
    rng = np.random.default_rng(7)
    img1 = rng.integers(0, 256, (40, 50, 4), dtype=np.uint8)
    img2 = rng.integers(0, 256, (40, 50, 4), dtype=np.uint8)
    result = pixelmatch(img1, img2, MatchOptions(alpha=1.0))
    assert result.output is not None and math.isfinite(float(result.output.sum()))
    count, image = reference_pixelmatch(img1.tobytes(), img2.tobytes(), 50, 40, MatchOptions(alpha=1.0))
    assert result.diff_pixels == count and result.output.tobytes() == image
