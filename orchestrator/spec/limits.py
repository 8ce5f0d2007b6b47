"""How much an `instep.yml` may ask of Instep: far beyond any real pipeline, small enough that a
hostile or broken file is refused in milliseconds instead of taking a worker's memory or time.

README's `instep.yml` section states these numbers; change both together."""

from __future__ import annotations

MAX_FILE_BYTES = 1024 * 1024
"""The file's size in bytes (1 MB)."""

MAX_DEPTH = 32
"""Lists and mappings nested inside each other, counting what aliases bring in."""

MAX_VALUES = 100_000
"""Keys and values (scalars, lists, mappings) in the file, counting each alias as the values it
repeats: this bounds the parse of a dense file and refuses anchors nested in anchors (a "billion
laughs" file) before anything is expanded."""

MAX_STAGES = 1_000
"""Stages under `stages:`."""
