"""pixelmatch 7.2.0, vectorised with NumPy: same diff count and same diff image, bit for bit.

The reference walks every pixel in JavaScript. Here only the pixels whose RGBA words differ get a
colour delta, and only those over the threshold get the anti-aliasing test, each step over all
those pixels at once (in bounded chunks, so memory stays flat on a shifted layout). Arithmetic is
in float64 in the reference's order of operations, so every comparison lands on the same side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

# The neighbours of a pixel in the order the reference visits them: x outer, y inner. The order
# decides which of two equally dark (or bright) neighbours becomes the minimum (or maximum).
_NEIGHBOURS: tuple[tuple[int, int], ...] = (
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
)
# When more than 1/_MAP_FRACTION of the pixels differ (a shifted layout), the sibling test is
# answered from whole-image maps, cheaper than looking up 8 neighbours per candidate.
_MAP_FRACTION = 16
# Pixels handled per vectorised step: bounds the float64 temporaries (~100 bytes per pixel).
_CHUNK = 1 << 16

Color = tuple[int, int, int]
RGBAImage = npt.NDArray[np.uint8]  # shape (height, width, 4)


class InvalidMatchOptions(ValueError):
    """An option passed to the diff engine is out of range."""


@dataclass(frozen=True)
class MatchOptions:
    """pixelmatch's options, with its defaults; colours are (r, g, b) bytes."""

    threshold: float = 0.1
    include_aa: bool = False
    alpha: float = 0.1
    aa_color: Color = (255, 255, 0)
    diff_color: Color = (255, 0, 0)
    diff_color_alt: Color | None = None
    diff_mask: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise InvalidMatchOptions(f"threshold must be between 0 and 1, got {self.threshold}")
        if not 0.0 <= self.alpha <= 1.0:
            raise InvalidMatchOptions(f"alpha must be between 0 and 1, got {self.alpha}")
        for name in ("aa_color", "diff_color", "diff_color_alt"):
            color = getattr(self, name)
            if color is None:
                continue
            if len(color) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in color):
                raise InvalidMatchOptions(f"{name} must be three integers 0-255, got {color!r}")


@dataclass(frozen=True)
class MatchResult:
    """The count of differing pixels, where they are, and the diff image when one was asked for."""

    diff_pixels: int
    width: int
    height: int
    # Flat indices (y * width + x), ascending, of the counted pixels.
    diff_indices: npt.NDArray[np.int64] = field(repr=False)
    output: RGBAImage | None = field(default=None, repr=False)


def pixelmatch(
    img1: RGBAImage, img2: RGBAImage, options: MatchOptions | None = None, *, output: bool = True
) -> MatchResult:
    """Compare two RGBA images of the same size as pixelmatch 7.2.0 does."""
    options = options or MatchOptions()
    if img1.shape != img2.shape or img1.ndim != 3 or img1.shape[2] != 4:
        raise InvalidMatchOptions(
            f"images must be RGBA arrays of one size, got {img1.shape} and {img2.shape}"
        )
    if img1.dtype != np.uint8 or img2.dtype != np.uint8:
        raise InvalidMatchOptions("images must be uint8 RGBA arrays")
    height, width = img1.shape[:2]
    n = width * height
    p1 = np.ascontiguousarray(img1).reshape(n, 4)
    p2 = np.ascontiguousarray(img2).reshape(n, 4)
    a32 = p1.view(np.uint32).reshape(n)
    b32 = p2.view(np.uint32).reshape(n)

    out: RGBAImage | None = None
    if output:
        out = np.zeros((n, 4), dtype=np.uint8)
        if not options.diff_mask:
            _draw_gray(p1, options.alpha, out)

    differing = np.flatnonzero(a32 != b32)
    if differing.size == 0:
        return MatchResult(0, width, height, differing.astype(np.int64), _shaped(out, height, width))

    max_delta = 35215 * options.threshold * options.threshold
    siblings = _Siblings(a32, b32, width, height, maps=differing.size * _MAP_FRACTION > n)
    counted: list[npt.NDArray[np.int64]] = []
    for start in range(0, differing.size, _CHUNK):
        idx = differing[start : start + _CHUNK].astype(np.int64)
        # Gathering 32-bit words is several times faster than gathering rows of 4 bytes.
        delta = _color_delta(_rows(a32[idx]), _rows(b32[idx]), idx, y_only=False)
        over = np.abs(delta) > max_delta
        idx, delta = idx[over], delta[over]
        if idx.size == 0:
            continue
        if options.include_aa:
            is_aa = np.zeros(idx.size, dtype=bool)
        else:
            is_aa = _antialiased(0, idx, siblings, width, height)
            rest = np.flatnonzero(~is_aa)
            if rest.size:
                is_aa[rest] = _antialiased(1, idx[rest], siblings, width, height)
        real = idx[~is_aa]
        counted.append(real)
        if out is not None:
            if not options.diff_mask:
                out[idx[is_aa]] = (*options.aa_color, 255)
            darker = delta[~is_aa] < 0
            alt = options.diff_color_alt or options.diff_color
            out[real[~darker]] = (*options.diff_color, 255)
            out[real[darker]] = (*alt, 255)

    diff_indices = np.concatenate(counted) if counted else np.zeros(0, dtype=np.int64)
    return MatchResult(int(diff_indices.size), width, height, diff_indices, _shaped(out, height, width))


def pixelmatch_bytes(
    img1: bytes, img2: bytes, width: int, height: int, options: MatchOptions | None = None
) -> tuple[int, bytes]:
    """pixelmatch on raw RGBA byte strings: the diff count and the diff image's RGBA bytes."""
    expected = width * height * 4
    if len(img1) != expected or len(img2) != expected:
        raise InvalidMatchOptions(
            f"image data size does not match {width}x{height}: {len(img1)} and {len(img2)} bytes, "
            f"expected {expected}"
        )
    a = np.frombuffer(img1, dtype=np.uint8).reshape(height, width, 4)
    b = np.frombuffer(img2, dtype=np.uint8).reshape(height, width, 4)
    result = pixelmatch(a, b, options)
    assert result.output is not None
    return result.diff_pixels, result.output.tobytes()


def _shaped(out: RGBAImage | None, height: int, width: int) -> RGBAImage | None:
    return None if out is None else out.reshape(height, width, 4)


def _rows(words: npt.NDArray[np.uint32]) -> RGBAImage:
    """Words back to rows of (r, g, b, a) bytes, without copying."""
    return words.view(np.uint8).reshape(-1, 4)


def _color_delta(
    c1: RGBAImage, c2: RGBAImage, idx: npt.NDArray[np.int64], *, y_only: bool
) -> npt.NDArray[np.float64]:
    """colorDelta for rows of pixels c1 vs c2 (shape (m, 4)); idx is the pixel's flat index, which
    picks the checkerboard background.

    The reference blends only when an alpha is below 255. Blending a row with two opaque pixels
    gives exactly the plain difference too (255·d / 255 is exact in doubles), so a chunk mixing
    opaque and transparent pixels can take the blended formula for all of them.
    """
    if (c1[:, 3] == 255).all() and (c2[:, 3] == 255).all():
        # Opaque (every real screenshot): the reference takes plain integer differences.
        dr, dg, db = (np.subtract(c1[:, ch], c2[:, ch], dtype=np.float64) for ch in range(3))
    else:
        f1 = c1.astype(np.float64)
        f2 = c2.astype(np.float64)
        a1, a2 = f1[:, 3], f2[:, 3]
        da = a1 - a2
        kf = 4 * idx.astype(np.float64)
        # bgR = 48 + 159 * (k % 2) is always 48: k is a multiple of 4.
        bg_g = 48 + 159 * (np.floor(kf / 1.618033988749895) % 2)
        bg_b = 48 + 159 * (np.floor(kf / 2.618033988749895) % 2)
        dr = (f1[:, 0] * a1 - f2[:, 0] * a2 - 48 * da) / 255
        dg = (f1[:, 1] * a1 - f2[:, 1] * a2 - bg_g * da) / 255
        db = (f1[:, 2] * a1 - f2[:, 2] * a2 - bg_b * da) / 255
    # In place, keeping the reference's order of operations: ((dr*a + dg*b) + db*c).
    y = dr * 0.29889531
    y += dg * 0.58662247
    y += db * 0.11448223
    if y_only:
        return y
    i = dr * 0.59597799
    i -= dg * 0.27417610
    i -= db * 0.32180189
    q = dr * 0.21147017
    q -= dg * 0.52261711
    q += db * 0.31114694
    # 0.5053 * y * y + 0.299 * i * i + 0.1957 * q * q, evaluated left to right.
    delta = 0.5053 * y
    delta *= y
    i *= 0.299 * i
    delta += i
    q *= 0.1957 * q
    delta += q
    np.negative(delta, out=delta, where=y > 0)
    return delta


_Window = tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]]


def _window(idx: npt.NDArray[np.int64], width: int, height: int) -> _Window:
    """The 8 neighbours of each pixel in visiting order: their flat indices, whether each lies
    inside the image (shape (m, 8)), and the border bonus (1 on the image edge). Neighbours
    outside the image point at the pixel itself and are masked out by `inside`."""
    x = idx % width
    y = idx // width
    on_border = (x == 0) | (x == width - 1) | (y == 0) | (y == height - 1)
    neighbours = idx[:, None] + np.array([dy * width + dx for dx, dy in _NEIGHBOURS])
    inside = np.ones(neighbours.shape, dtype=bool)
    edge = np.flatnonzero(on_border)
    if edge.size:
        ex, ey = x[edge][:, None], y[edge][:, None]
        nx = ex + np.array([dx for dx, _ in _NEIGHBOURS])
        ny = ey + np.array([dy for _, dy in _NEIGHBOURS])
        inside[edge] = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
        neighbours[edge] = np.where(inside[edge], neighbours[edge], idx[edge][:, None])
    return neighbours, inside, on_border.astype(np.int64)


class _Siblings:
    """pixelmatch's `hasManySiblings` (more than 2 neighbours, plus the border bonus, equal to the
    pixel itself) for img1 (0) and img2 (1): looked up per pixel, or from precomputed maps."""

    def __init__(
        self, a32: npt.NDArray[np.uint32], b32: npt.NDArray[np.uint32], width: int, height: int, *, maps: bool
    ) -> None:
        self.words = (a32, b32)
        self.width, self.height = width, height
        self.maps = (_many_map(a32, width, height), _many_map(b32, width, height)) if maps else None

    def many(self, image: int, idx: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        if self.maps is not None:
            return self.maps[image][idx]
        neighbours, inside, border = _window(idx, self.width, self.height)
        words = self.words[image]
        return border + np.count_nonzero(inside & (words[neighbours] == words[idx][:, None]), axis=1) > 2

    def many_in_both(self, idx: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        many = self.many(0, idx)
        rows = np.flatnonzero(many)
        many[rows] = self.many(1, idx[rows])
        return many


def _many_map(words: npt.NDArray[np.uint32], width: int, height: int) -> npt.NDArray[np.bool_]:
    """hasManySiblings for every pixel: count equal neighbours with 4 shifted comparisons.

    Each comparison runs over the flat image (contiguous, so vectorised well), pairing pixel i with
    i + step; the pairs that wrap from one row's end to the next row's start are then dropped."""
    count = np.zeros(words.size, dtype=np.uint8)
    # (step, first pixel x of a wrapping pair): right, down, down-right, down-left.
    for step, wrap_x in ((1, width - 1), (width, None), (width + 1, width - 1), (width - 1, 0)):
        if step == 0 or step >= words.size:
            continue
        equal = words[step:] == words[:-step]
        if wrap_x is not None:
            equal[wrap_x::width] = False
        added = equal.view(np.uint8)
        count[step:] += added
        count[:-step] += added
    # The border bonus is 1 however many edges a pixel touches.
    grid = count.reshape(height, width)
    grid[0] += 1
    if height > 1:
        grid[-1] += 1
    grid[1:-1, 0] += 1
    if width > 1:
        grid[1:-1, -1] += 1
    return count > 2


def _antialiased(
    image: int, idx: npt.NDArray[np.int64], siblings: _Siblings, width: int, height: int
) -> npt.NDArray[np.bool_]:
    """pixelmatch's `antialiased(img, x, y, ...)` for every pixel in idx at once (img is image 0
    or 1 of the pair)."""
    result = np.zeros(idx.size, dtype=bool)
    # A neighbour with an equal RGBA word has brightness delta 0, so more than 2 of them (with the
    # border bonus) already decide "not anti-aliased": zeroes only grows. That is exactly
    # hasManySiblings of the pixel, a cheap integer test that removes flat areas before any
    # float work.
    open_rows = np.flatnonzero(~siblings.many(image, idx))
    if open_rows.size == 0:
        return result
    centres = idx[open_rows]
    neighbours, inside, border = _window(centres, width, height)
    brightness = _brightness(siblings.words[image], centres, neighbours)
    # The reference stops at the third equal sibling; the count only grows, so counting all
    # neighbours gives the same answer.
    # A neighbour outside the image points at the centre itself, so its brightness is exactly 0:
    # `inside` matters only for counting zeroes.
    zero = brightness == 0
    zero &= inside
    zeroes = border + _count_per_row(zero)
    darker = brightness < 0
    brighter = brightness > 0
    rows = np.flatnonzero((zeroes <= 2) & _any_per_row(darker) & _any_per_row(brighter))
    if rows.size == 0:
        return result
    # Strict < and > keep the first extreme met in visiting order; argmin/argmax do the same. Every
    # row kept has a negative and a positive brightness, so the extremes are never a zero (and
    # never a neighbour outside the image).
    b = brightness[rows]
    darkest = np.argmin(b, axis=1)
    brightest = np.argmax(b, axis=1)
    aa = siblings.many_in_both(neighbours[rows, darkest])
    undecided = np.flatnonzero(~aa)
    if undecided.size:
        aa[undecided] = siblings.many_in_both(neighbours[rows[undecided], brightest[undecided]])
    result[open_rows[rows]] = aa
    return result


def _any_per_row(flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """flags.any(axis=1) for an (m, 8) bool array, reading each row as one 64-bit word."""
    return np.ascontiguousarray(flags).view(np.uint64).reshape(-1) != 0


def _count_per_row(flags: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """np.count_nonzero(flags, axis=1) for an (m, 8) bool array: the byte sum of each row's word,
    gathered into the top byte by one multiplication."""
    words = np.ascontiguousarray(flags).view(np.uint64).reshape(-1)
    return ((words * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def _brightness(
    words: npt.NDArray[np.uint32], centres: npt.NDArray[np.int64], neighbours: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """colorDelta(centre, neighbour, yOnly) for each centre's 8 neighbours, shape (m, 8)."""
    centre = _rows(words[centres])
    around = words[neighbours].view(np.uint8).reshape(*neighbours.shape, 4)
    if (centre[:, 3] == 255).all() and (around[:, :, 3] == 255).all():
        # Opaque: broadcast the centre against its neighbours instead of repeating it 8 times.
        y = np.subtract(centre[:, None, 0], around[:, :, 0], dtype=np.float64)
        y *= 0.29889531
        y += np.subtract(centre[:, None, 1], around[:, :, 1], dtype=np.float64) * 0.58662247
        y += np.subtract(centre[:, None, 2], around[:, :, 2], dtype=np.float64) * 0.11448223
        return y
    return _color_delta(
        np.repeat(centre, 8, axis=0), around.reshape(-1, 4), np.repeat(centres, 8), y_only=True
    ).reshape(neighbours.shape)


def _draw_gray(pixels: RGBAImage, alpha: float, out: RGBAImage) -> None:
    """drawGrayPixel for every pixel: img1's luma blended with white, truncated to a byte."""
    words = out.reshape(-1).view("<u4")  # (r, g, b, a) bytes as one little-endian word
    for start in range(0, pixels.shape[0], _CHUNK * 4):
        block = pixels[start : start + _CHUNK * 4]
        # In place, in the reference's order: 255 + (((y - 255) * alpha) * a) / 255.
        val = np.multiply(block[:, 0], 0.29889531, dtype=np.float64)
        val += block[:, 1] * 0.58662247
        val += block[:, 2] * 0.11448223
        val -= 255
        val *= alpha
        val *= block[:, 3]
        val /= 255
        val += 255
        # A Uint8Array store: truncate toward zero, then wrap modulo 256.
        gray = np.trunc(val).astype(np.int64)
        gray &= 0xFF
        words[start : start + block.shape[0]] = gray * 0x010101 + 0xFF000000
