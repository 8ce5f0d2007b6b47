"""Reading and writing PNG bytes: the header check that refuses decompression bombs before any
pixel is decoded, decoding to RGBA, and encoding diff images."""

from __future__ import annotations

import ctypes
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
                array = _rgba_pixels(image)
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{name}: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error) as exc:
        raise CorruptPngError(f"{name}: corrupt or truncated PNG ({exc}); capture it again") from exc
    if array.shape[:2] != (header.height, header.width):
        raise CorruptPngError(f"{name}: decoded size differs from its header; capture it again")
    return array


def _rgba_pixels(image: Image.Image) -> RGBAImage:
    """The decoded pixels as an (height, width, 4) array, without copying when Pillow can share them.

    Pillow stores an RGB image as 4 bytes per pixel, so an opaque RGB PNG (no tRNS chunk) is shared
    as RGBA with the padding byte set to 255; converting to RGBA and copying out would cost more
    than decoding."""
    opaque_rgb = image.mode == "RGB" and "transparency" not in image.info
    if not opaque_rgb and image.mode != "RGBA":
        image = image.convert("RGBA")
    shared = _shared_pixels(image)
    if shared is None:
        return np.asarray(image.convert("RGBA") if opaque_rgb else image)
    if opaque_rgb:
        shared[:, :, 3] = 255
    shared.flags.writeable = False
    return shared


class _ArrowSchema(ctypes.Structure):
    pass


class _ArrowArray(ctypes.Structure):
    pass


# The Arrow C data interface structs (a stable ABI), enough to find the pixel buffer.
_ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p),
    ("name", ctypes.c_char_p),
    ("metadata", ctypes.c_char_p),
    ("flags", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(_ArrowSchema))),
    ("dictionary", ctypes.c_void_p),
    ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p),
]
_ArrowArray._fields_ = [
    ("length", ctypes.c_int64),
    ("null_count", ctypes.c_int64),
    ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(_ArrowArray))),
    ("dictionary", ctypes.c_void_p),
    ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p),
]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class _SharedPixels:
    """Keeps Pillow's exported Arrow array alive for as long as a NumPy array views its buffer."""

    def __init__(self, capsules: tuple[object, object], address: int, shape: tuple[int, int, int]) -> None:
        self._capsules = capsules
        self.__array_interface__ = {"version": 3, "shape": shape, "typestr": "|u1", "data": (address, False)}


def _shared_pixels(image: Image.Image) -> RGBAImage | None:
    """Pillow's own pixel memory (4 bytes per pixel) through its Arrow export (Pillow 11.2+), or
    None when the export is unavailable or not one flat buffer of the expected size."""
    try:
        schema_capsule, array_capsule = image.__arrow_c_array__()
    except (AttributeError, ValueError, OSError):
        return None
    schema = ctypes.cast(_capsule_pointer(schema_capsule, b"arrow_schema"), ctypes.POINTER(_ArrowSchema))[0]
    array = ctypes.cast(_capsule_pointer(array_capsule, b"arrow_array"), ctypes.POINTER(_ArrowArray))[0]
    expected = image.width * image.height * 4
    if schema.format != b"+w:4" or array.n_children != 1 or array.offset != 0:
        return None
    values = array.children[0][0]
    if values.offset != 0 or values.length != expected or values.n_buffers != 2 or not values.buffers[1]:
        return None
    holder = _SharedPixels((schema_capsule, array_capsule), values.buffers[1], (image.height, image.width, 4))
    return np.asarray(holder)


def encode_png(image: RGBAImage, *, compress_level: int = 1) -> bytes:
    """RGBA array to PNG bytes; level 1 because diff images are written often and read rarely.

    Every row uses the Up filter (a vectorised subtraction), which compresses a diff image about as
    well as the per-row filter search an encoder like Pillow's runs, at well under half the cost."""
    height, width, channels = image.shape
    if channels != 4 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGBA uint8 array, got shape {image.shape} of {image.dtype}")
    rows = np.ascontiguousarray(image).reshape(height, width * 4)
    filtered = np.empty((height, width * 4 + 1), dtype=np.uint8)
    filtered[:, 0] = 2  # Up: each byte minus the byte above, modulo 256
    filtered[0, 0] = 0  # None for the first row, which has nothing above
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(filtered.data, compress_level)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
