"""Thumbnails and diff images for the dashboard, generated once and kept in the blob store under
keys derived from the content they show."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict

from PIL import Image

from screenshots.blobstore import BlobStore
from screenshots.diff import Status, compare_screens
from screenshots.png import DEFAULT_MAX_PIXELS, ScreenshotFileError, decode_rgba
from screenshots.rules import ScreenSettings

THUMBNAIL_WIDTH = 240


def thumbnail_png(png: bytes, width: int = THUMBNAIL_WIDTH, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """A PNG `width` px wide keeping the aspect ratio (never enlarged); refuses oversized input."""
    image = Image.fromarray(decode_rgba(png, name="thumbnail source", max_pixels=max_pixels), "RGBA")
    if image.width > width:
        height = max(1, round(image.height * width / image.width))
        # reducing_gap shrinks by whole factors first: fast on 1170x2532, still sharp.
        image = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=2.0)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def thumbnail_key(png: bytes, width: int = THUMBNAIL_WIDTH) -> str:
    return f"renditions/thumbnails/{width}/{hashlib.sha256(png).hexdigest()}.png"


def diff_key(baseline: bytes, candidate: bytes, settings: ScreenSettings) -> str:
    """Same inputs and same settings give the same key, so a diff image is made once."""
    parts = [
        hashlib.sha256(baseline).hexdigest(),
        hashlib.sha256(candidate).hexdigest(),
        json.dumps(asdict(settings), sort_keys=True, default=str),
    ]
    return f"renditions/diffs/{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()}.png"


class Renditions:
    """Cached thumbnails and diff images; each is generated only when its key is absent."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    def thumbnail(self, png: bytes, width: int = THUMBNAIL_WIDTH) -> str:
        key = thumbnail_key(png, width)
        if not self.store.exists(key):
            self.store.put(key, thumbnail_png(png, width))
        return key

    def diff_image(self, baseline: bytes, candidate: bytes, settings: ScreenSettings) -> str | None:
        """The key of the diff PNG, or None when the screens do not differ (no image is made)."""
        key = diff_key(baseline, candidate, settings)
        if self.store.exists(key):
            return key
        result = compare_screens("diff", baseline, candidate, settings, diff_image=True)
        if result.status is Status.ERROR:
            raise ScreenshotFileError(result.error or "cannot compare these screenshots")
        if result.status is not Status.CHANGED or result.diff_png is None:
            return None
        self.store.put(key, result.diff_png)
        return key
