"""PNG reading and writing: decoded pixels equal Pillow's RGBA conversion for every colour type,
and written diff images decode back to the same pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from screenshots.png import decode_rgba, encode_png


def _png(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def _random_rgba(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P"])
def test_decoded_pixels_equal_pillows_rgba_conversion(mode: str) -> None:
    source = Image.fromarray(_random_rgba(37, 23), "RGBA").convert(mode)
    decoded = decode_rgba(_png(source))
    assert np.array_equal(decoded, np.asarray(source.convert("RGBA")))
    assert not decoded.flags.writeable


def test_rgb_png_with_a_transparent_colour_keeps_its_transparency() -> None:
    pixels = _random_rgba(16, 16)[:, :, :3].copy()
    pixels[0, 0] = (1, 2, 3)
    decoded = decode_rgba(_png(Image.fromarray(pixels, "RGB"), transparency=(1, 2, 3)))
    assert decoded[0, 0, 3] == 0
    assert (decoded[1:, :, 3] == 255).all()


def test_decoded_pixels_outlive_the_decoder() -> None:
    data = _png(Image.fromarray(_random_rgba(64, 48)[:, :, :3].copy(), "RGB"))
    first = decode_rgba(data)
    expected = first.copy()
    for _ in range(5):
        decode_rgba(data)
    assert np.array_equal(first, expected)


@pytest.mark.parametrize(("height", "width"), [(1, 1), (1, 9), (9, 1), (31, 17)])
def test_encoded_diff_image_decodes_to_the_same_pixels(height: int, width: int) -> None:
    pixels = _random_rgba(height, width, seed=height * width)
    data = encode_png(pixels)
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGBA"
        assert np.array_equal(np.asarray(image), pixels)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_pixels_are_copied_when_pillow_cannot_share_them(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pillow before 11.2 has no Arrow export, and a large image spans several memory blocks.
    monkeypatch.setattr("screenshots.png._shared_pixels", lambda image: None)
    source = Image.fromarray(_random_rgba(19, 29), "RGBA").convert(mode)
    assert np.array_equal(decode_rgba(_png(source)), np.asarray(source.convert("RGBA")))
