"""Rectangles on a screenshot: ignore regions masked before comparing, and the changed area
reported as boxes after."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from screenshots.pixelmatch import RGBAImage

# Changed pixels in 16x16 tiles that touch (8-connected) form one box: a changed word or icon is
# one box, not one per glyph, while separate parts of a screen stay separate.
DEFAULT_TILE = 16


class InvalidRegion(ValueError):
    """An ignore region is malformed."""


@dataclass(frozen=True)
class Rect:
    """A rectangle in image pixels: left, top, width, height."""

    x: int
    y: int
    width: int
    height: int

    def __post_init__(self) -> None:
        if min(self.x, self.y) < 0 or min(self.width, self.height) <= 0:
            raise InvalidRegion(
                f"region x={self.x} y={self.y} width={self.width} height={self.height}: "
                "x and y must be >= 0, width and height > 0"
            )

    @classmethod
    def parse(cls, text: str) -> Rect:
        """'x,y,width,height' in pixels, e.g. '0,0,1170,141' for a phone status bar."""
        parts = text.split(",")
        try:
            x, y, width, height = (int(p.strip()) for p in parts)
        except ValueError:
            raise InvalidRegion(f"region {text!r}: expected x,y,width,height as four integers") from None
        return cls(x, y, width, height)

    def as_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}


@dataclass(frozen=True)
class ChangedBox:
    """The bounding box of one group of changed pixels and how many pixels it holds."""

    x: int
    y: int
    width: int
    height: int
    pixels: int

    def as_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height, "pixels": self.pixels}


def mask_regions(image: RGBAImage, regions: tuple[Rect, ...]) -> RGBAImage:
    """A copy of image with each region (clipped to the image) set to transparent black."""
    if not regions:
        return image
    masked = np.array(image)
    for r in regions:
        masked[r.y : r.y + r.height, r.x : r.x + r.width] = 0
    return masked


def changed_boxes(
    diff_indices: npt.NDArray[np.int64], width: int, tile: int = DEFAULT_TILE
) -> list[ChangedBox]:
    """Group changed pixels (flat indices) into boxes: tiles of `tile` px holding a changed pixel
    are joined when they touch, and each group's box is tight around its pixels. Top to bottom."""
    if diff_indices.size == 0:
        return []
    # Per-tile statistics by counting (linear in the changed pixels, no sort of the pixels):
    # how many pixels, and which of the tile's columns and rows hold one.
    ys, xs = np.divmod(diff_indices, width)
    tx, ty = xs // tile, ys // tile
    grid_w = int(tx.max()) + 1
    grid_h = int(ty.max()) + 1
    tile_id = ty * grid_w + tx
    n_tiles = grid_h * grid_w
    pixels = np.bincount(tile_id, minlength=n_tiles)
    columns = (
        np.bincount(tile_id * tile + (xs - tx * tile), minlength=n_tiles * tile).reshape(n_tiles, tile) > 0
    )
    rows = np.bincount(tile_id * tile + (ys - ty * tile), minlength=n_tiles * tile).reshape(n_tiles, tile) > 0
    labels = _label_tiles(pixels.reshape(grid_h, grid_w) > 0).reshape(-1)
    tiles = np.flatnonzero(pixels)
    origin_x = (tiles % grid_w) * tile
    origin_y = (tiles // grid_w) * tile
    x0 = origin_x + np.argmax(columns[tiles], axis=1)
    x1 = origin_x + tile - 1 - np.argmax(columns[tiles, ::-1], axis=1)
    y0 = origin_y + np.argmax(rows[tiles], axis=1)
    y1 = origin_y + tile - 1 - np.argmax(rows[tiles, ::-1], axis=1)
    order = np.argsort(labels[tiles], kind="stable")
    sorted_labels = labels[tiles][order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    boxes = [
        ChangedBox(int(a), int(b), int(c - a + 1), int(d - b + 1), int(n))
        for a, b, c, d, n in zip(
            np.minimum.reduceat(x0[order], starts),
            np.minimum.reduceat(y0[order], starts),
            np.maximum.reduceat(x1[order], starts),
            np.maximum.reduceat(y1[order], starts),
            np.add.reduceat(pixels[tiles][order], starts),
            strict=True,
        )
    ]
    return sorted(boxes, key=lambda box: (box.y, box.x))


def _label_tiles(occupied: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """8-connected component labels of the occupied tiles (0 for empty), by propagating the
    largest label to neighbours until nothing changes; the grid is small (a phone is ~75x160)."""
    h, w = occupied.shape
    labels = np.where(occupied, np.arange(1, h * w + 1).reshape(h, w), 0)
    while True:
        padded = np.pad(labels, 1)
        spread = labels.copy()
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                np.maximum(spread, padded[dy : dy + h, dx : dx + w], out=spread)
        spread = np.where(occupied, spread, 0)
        if np.array_equal(spread, labels):
            return labels
        labels = spread
