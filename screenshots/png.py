"""Reading and writing PNG bytes: the header check that refuses decompression bombs before any
pixel is decoded, decoding to RGBA, and encoding diff images."""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from screenshots.pixelmatch import RGBAImage

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# 50 megapixels: a 1440x3200 phone screen is 4.6 MP; RGBA at 50 MP is already 200 MB per image.
DEFAULT_MAX_PIXELS = 50_000_000
_PNG_MAX_SIDE = 2**31 - 1


class ScreenshotFileError(Exception):
    """A screenshot file cannot be compared; the message says what is wrong and what to do."""


class NotAPngError(ScreenshotFileError):
    pass


class CorruptPngError(ScreenshotFileError):
    pass


class ImageTooLargeError(ScreenshotFileError):
    pass


@dataclass(frozen=True)
class PngHeader:
    width: int
    height: int


def read_header(data: bytes, *, name: str = "image") -> PngHeader:
    """The width and height from the IHDR chunk, without decoding anything."""
    if not data.startswith(PNG_SIGNATURE):
        what = "an empty file" if not data else "not a PNG file (no PNG signature)"
        raise NotAPngError(f"{name}: {what}; screenshots must be PNG images")
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise CorruptPngError(f"{name}: truncated or corrupt PNG (no IHDR header); capture it again")
    width, height = struct.unpack(">II", data[16:24])
    (crc,) = struct.unpack(">I", data[29:33])
    if crc != zlib.crc32(data[12:29]) or width > _PNG_MAX_SIDE or height > _PNG_MAX_SIDE:
        raise CorruptPngError(f"{name}: corrupt PNG header (bad IHDR checksum or size); capture it again")
    if width == 0 or height == 0:
        raise CorruptPngError(f"{name}: corrupt PNG header ({width}x{height}); capture it again")
    return PngHeader(width, height)


def check_size(header: PngHeader, max_pixels: int, *, name: str = "image") -> None:
    """Refuse images whose decoded size exceeds the limit (a decompression bomb, or a mistake)."""
    pixels = header.width * header.height
    if pixels > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {header.width}x{header.height} is {pixels / 1e6:.1f} megapixels, over the "
            f"{max_pixels / 1e6:g} MP limit; refusing to decode it (raise the limit only for images you trust)"
        )


def decode_rgba(data: bytes, *, name: str = "image", max_pixels: int = DEFAULT_MAX_PIXELS) -> RGBAImage:
    """Decode PNG bytes to an (height, width, 4) uint8 array, refusing oversized images first."""
    header = read_header(data, name=name)
    check_size(header, max_pixels, name=name)
    try:
        with warnings.catch_warnings():
            # The header check above is the limit; Pillow's own warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                image.load()
                rgba = image if image.mode == "RGBA" else image.convert("RGBA")
                array = np.asarray(rgba)
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{name}: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error) as exc:
        raise CorruptPngError(f"{name}: corrupt or truncated PNG ({exc}); capture it again") from exc
    if array.shape[:2] != (header.height, header.width):
        raise CorruptPngError(f"{name}: decoded size differs from its header; capture it again")
    return array


def encode_png(image: RGBAImage, *, compress_level: int = 1) -> bytes:
    """RGBA array to PNG bytes; level 1 because diff images are written often and read rarely."""
    buffer = io.BytesIO()
    Image.fromarray(image, "RGBA").save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()
