"""Per-screen settings: a threshold and ignore regions chosen by a glob on the screen's name
(`<device-profile>/<locale>/<screen>.png`), so a status-bar clock can be ignored for one device
profile and a chart screen can have a looser threshold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from screenshots.pixelmatch import InvalidMatchOptions, MatchOptions
from screenshots.png import DEFAULT_MAX_PIXELS
from screenshots.regions import InvalidRegion, Rect


class RulesError(ValueError):
    """The screen rules document is malformed; the message names the entry and field."""


@dataclass(frozen=True)
class ScreenRule:
    """Applies to every screen whose name matches `match` (fnmatch; `*` also crosses `/`)."""

    match: str
    threshold: float | None = None
    ignore: tuple[Rect, ...] = ()


@dataclass(frozen=True)
class ScreenSettings:
    """Everything that decides how one screen is compared."""

    options: MatchOptions = MatchOptions()
    ignore: tuple[Rect, ...] = ()
    max_pixels: int = DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class DiffSettings:
    """Folder-wide options plus the rules refining them per screen."""

    options: MatchOptions = MatchOptions()
    rules: tuple[ScreenRule, ...] = ()
    max_pixels: int = DEFAULT_MAX_PIXELS

    def for_screen(self, name: str) -> ScreenSettings:
        """Every matching rule adds its ignore regions; the last matching threshold wins."""
        options = self.options
        ignore: tuple[Rect, ...] = ()
        for rule in self.rules:
            if fnmatchcase(name, rule.match):
                ignore += rule.ignore
                if rule.threshold is not None:
                    options = replace(options, threshold=rule.threshold)
        return ScreenSettings(options, ignore, self.max_pixels)


def parse_rules(document: Mapping[str, Any], *, source: str = "rules") -> tuple[ScreenRule, ...]:
    """Rules from a parsed YAML/JSON document: `{"screens": [{"match", "threshold", "ignore"}]}`
    where each ignore entry is "x,y,width,height" or {x, y, width, height}."""
    entries = document.get("screens") if isinstance(document, Mapping) else None
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise RulesError(f"{source}: expected a top-level 'screens' list of rules")
    rules = []
    for n, entry in enumerate(entries):
        where = f"{source}: screens[{n}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("match"), str):
            raise RulesError(f"{where}: each rule needs a 'match' glob such as 'pixel-8/*/home.png'")
        unknown = set(entry) - {"match", "threshold", "ignore"}
        if unknown:
            raise RulesError(f"{where}: unknown field(s) {sorted(unknown)}; use match, threshold, ignore")
        threshold = entry.get("threshold")
        if threshold is not None:
            try:
                MatchOptions(threshold=float(threshold))
            except (TypeError, ValueError, InvalidMatchOptions) as exc:
                raise RulesError(f"{where}.threshold: {exc}") from None
        try:
            ignore = tuple(_rect(item) for item in entry.get("ignore") or ())
        except (InvalidRegion, TypeError, KeyError) as exc:
            raise RulesError(f"{where}.ignore: {exc}") from None
        rules.append(ScreenRule(entry["match"], None if threshold is None else float(threshold), ignore))
    return tuple(rules)


def _rect(item: object) -> Rect:
    if isinstance(item, str):
        return Rect.parse(item)
    if isinstance(item, Mapping):
        return Rect(int(item["x"]), int(item["y"]), int(item["width"]), int(item["height"]))
    raise InvalidRegion(f"{item!r}: expected 'x,y,width,height' or a mapping with x, y, width, height")
