"""One screen's comparison, baseline PNG bytes vs candidate PNG bytes: the status, the count, the
changed boxes and optionally the diff image. Pure: bytes in, a ScreenDiff out."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from screenshots.pixelmatch import pixelmatch
from screenshots.png import PngHeader, ScreenshotFileError, check_size, decode_rgba, encode_png, read_header
from screenshots.regions import ChangedBox, changed_boxes, mask_regions
from screenshots.rules import ScreenSettings


class Status(StrEnum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    NEW = "new"
    MISSING = "missing"
    SIZE_MISMATCH = "size_mismatch"
    ERROR = "error"


@dataclass(frozen=True)
class ScreenDiff:
    """The outcome for one screen name. diff_pixels is None when no pixels were compared."""

    name: str
    status: Status
    diff_pixels: int | None = None
    width: int | None = None
    height: int | None = None
    baseline_size: tuple[int, int] | None = None
    candidate_size: tuple[int, int] | None = None
    boxes: tuple[ChangedBox, ...] = ()
    threshold: float | None = None
    identical_bytes: bool = False
    error: str | None = None
    diff_png: bytes | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "status": self.status.value,
            "diff_pixels": self.diff_pixels,
            "width": self.width,
            "height": self.height,
        }
        if self.baseline_size:
            data["baseline_size"] = list(self.baseline_size)
        if self.candidate_size:
            data["candidate_size"] = list(self.candidate_size)
        if self.threshold is not None:
            data["threshold"] = self.threshold
        if self.status is Status.CHANGED:
            data["changed_boxes"] = [box.as_dict() for box in self.boxes]
        if self.error:
            data["error"] = self.error
        return data


def compare_screens(
    name: str,
    baseline: bytes | None,
    candidate: bytes | None,
    settings: ScreenSettings,
    *,
    diff_image: bool = False,
) -> ScreenDiff:
    """Compare one screen; bad files come back as status `error` with a message, never raised.

    Identical bytes are `unchanged` after reading only the header. Different sizes are reported as
    `size_mismatch` without decoding. The diff image is produced only for `changed` screens.
    """
    try:
        base_header = _header(baseline, f"baseline {name}", settings)
        cand_header = _header(candidate, f"candidate {name}", settings)
    except ScreenshotFileError as exc:
        return ScreenDiff(name, Status.ERROR, error=str(exc))
    base_size = _size(base_header)
    cand_size = _size(cand_header)
    if cand_header is None:
        assert base_header is not None
        return ScreenDiff(
            name, Status.MISSING, width=base_header.width, height=base_header.height, baseline_size=base_size
        )
    if base_header is None:
        return ScreenDiff(
            name, Status.NEW, width=cand_header.width, height=cand_header.height, candidate_size=cand_size
        )
    threshold = settings.options.threshold
    if base_size != cand_size:
        return ScreenDiff(
            name,
            Status.SIZE_MISMATCH,
            width=cand_header.width,
            height=cand_header.height,
            baseline_size=base_size,
            candidate_size=cand_size,
            threshold=threshold,
        )
    width, height = cand_header.width, cand_header.height
    if baseline == candidate:
        return ScreenDiff(name, Status.UNCHANGED, 0, width, height, threshold=threshold, identical_bytes=True)
    assert baseline is not None and candidate is not None
    try:
        img1 = mask_regions(
            decode_rgba(baseline, name=f"baseline {name}", max_pixels=settings.max_pixels), settings.ignore
        )
        img2 = mask_regions(
            decode_rgba(candidate, name=f"candidate {name}", max_pixels=settings.max_pixels), settings.ignore
        )
    except ScreenshotFileError as exc:
        return ScreenDiff(name, Status.ERROR, error=str(exc))
    result = pixelmatch(img1, img2, settings.options, output=diff_image)
    del img1, img2
    if result.diff_pixels == 0:
        return ScreenDiff(name, Status.UNCHANGED, 0, width, height, threshold=threshold)
    return ScreenDiff(
        name,
        Status.CHANGED,
        result.diff_pixels,
        width,
        height,
        boxes=tuple(changed_boxes(result.diff_indices, width)),
        threshold=threshold,
        diff_png=encode_png(result.output) if result.output is not None else None,
    )


def _header(data: bytes | None, name: str, settings: ScreenSettings) -> PngHeader | None:
    if data is None:
        return None
    header = read_header(data, name=name)
    check_size(header, settings.max_pixels, name=name)
    return header


def _size(header: PngHeader | None) -> tuple[int, int] | None:
    return None if header is None else (header.width, header.height)
