"""Real PNGs for the screenshot tests: the upstream pixelmatch fixtures and screens drawn with
Pillow."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

FIXTURES = Path(__file__).parent / "fixtures" / "pixelmatch-7.2.0"

# vectors.json option names -> MatchOptions field names.
OPTION_NAMES = {
    "threshold": "threshold",
    "includeAA": "include_aa",
    "alpha": "alpha",
    "aaColor": "aa_color",
    "diffColor": "diff_color",
    "diffColorAlt": "diff_color_alt",
    "diffMask": "diff_mask",
}


def upstream_vectors() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "vectors.json").read_text())["vectors"]


def match_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    return {OPTION_NAMES[k]: tuple(v) if isinstance(v, list) else v for k, v in options.items()}


def load_rgba(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"))


def png_bytes(image: np.ndarray | Image.Image) -> bytes:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image, "RGBA")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def draw_screen(
    title: str = "Orders", *, width: int = 180, height: int = 320, offset: int = 0
) -> Image.Image:
    """A small phone-like screen: status bar with a clock, a title, list rows with text."""
    image = Image.new("RGBA", (width, height), (250, 250, 252, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 20), fill=(30, 30, 40, 255))
    draw.text((4, 4), "9:41", fill=(255, 255, 255, 255))
    draw.text((10, 30 + offset), title, fill=(20, 20, 20, 255))
    for row in range(5):
        top = 60 + offset + row * 40
        draw.rounded_rectangle(
            (8, top, width - 8, top + 32), radius=6, fill=(255, 255, 255, 255), outline=(200, 200, 210, 255)
        )
        draw.text((16, top + 10), f"Order #{1000 + row}", fill=(60, 60, 60, 255))
    return image


def header_only_png(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming width x height, followed by nothing else."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


def bomb_png(width: int, height: int) -> bytes:
    """A complete, valid 1-bit grayscale PNG of width x height zeros: tiny on disk, huge decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture
def screen_png() -> bytes:
    return png_bytes(draw_screen())
