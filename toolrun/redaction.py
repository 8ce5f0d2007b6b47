"""Secret redaction for job logs: every value of a project's secrets becomes `***`."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
# Values this short would mask ordinary words ("1", "on"); they are refused as secrets instead.
MIN_SECRET_LENGTH = 4


class Redactor:
    """Replaces every occurrence of any secret value in a text with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)
