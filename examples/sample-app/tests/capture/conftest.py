"""The capture suite reuses the acceptance suite's steps (app URL, Shop, sign-in)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "acceptance"))

from sample_shop import app_url, shop, signed_in  # noqa: E402,F401 - fixtures for this suite
