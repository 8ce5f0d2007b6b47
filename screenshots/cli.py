"""`instep screenshots ...`: compare folders of screenshots from the command line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click
import yaml

from screenshots.diff import Status
from screenshots.folders import FolderDiff, diff_folders
from screenshots.pixelmatch import InvalidMatchOptions, MatchOptions
from screenshots.regions import InvalidRegion, Rect
from screenshots.rules import DiffSettings, RulesError, ScreenRule, parse_rules


@click.group()
def screenshots() -> None:
    """Compare screenshots against baselines (pixelmatch 7.2.0 compatible)."""


@screenshots.command("diff")
@click.argument("baseline_dir", type=click.Path(path_type=Path))
@click.argument("candidate_dir", type=click.Path(path_type=Path))
@click.option(
    "--threshold", type=float, default=0.1, show_default=True, help="Colour distance 0-1; lower is stricter."
)
@click.option("--include-aa", is_flag=True, help="Count anti-aliased pixels as differences.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write diff PNGs of changed screens here.",
)
@click.option(
    "--ignore",
    "ignore",
    multiple=True,
    metavar="X,Y,W,H",
    help="A region masked on every screen before comparing (repeatable).",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML/JSON per-screen rules: {screens: [{match: 'pixel-8/*', threshold: 0.2, ignore: ['0,0,1080,63']}]}.",
)
@click.option("--max-megapixels", type=float, default=50.0, show_default=True, help="Refuse larger images.")
@click.option("--workers", type=click.IntRange(min=1), help="Processes to use (default: every core).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def diff_command(
    baseline_dir: Path,
    candidate_dir: Path,
    threshold: float,
    include_aa: bool,
    out_dir: Path | None,
    ignore: tuple[str, ...],
    rules_file: Path | None,
    max_megapixels: float,
    workers: int | None,
    as_json: bool,
) -> None:
    """Compare same-named PNGs in BASELINE_DIR and CANDIDATE_DIR (subfolders included).

    Exit code 0 when nothing changed, 1 when a screen changed, is new, missing or of another size,
    2 on bad input (unreadable or oversized PNGs, empty or missing folders, bad options).
    """
    try:
        settings = _settings(threshold, include_aa, ignore, rules_file, max_megapixels)
    except (InvalidMatchOptions, InvalidRegion, RulesError) as exc:
        report = FolderDiff((), (str(exc),))
    else:
        report = diff_folders(baseline_dir, candidate_dir, settings, out_dir=out_dir, workers=workers)
    if as_json:
        click.echo(json.dumps(_document(report), indent=2))
    else:
        _print_table(report)
    raise SystemExit(report.exit_code)


def _settings(
    threshold: float,
    include_aa: bool,
    ignore: tuple[str, ...],
    rules_file: Path | None,
    max_megapixels: float,
) -> DiffSettings:
    rules: tuple[ScreenRule, ...] = ()
    if ignore:
        rules += (ScreenRule("*", ignore=tuple(Rect.parse(text) for text in ignore)),)
    if rules_file is not None:
        try:
            document = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise RulesError(f"{rules_file}: cannot read the rules file ({exc})") from None
        rules += parse_rules(document, source=str(rules_file))
    if max_megapixels <= 0:
        raise InvalidMatchOptions(f"--max-megapixels must be positive, got {max_megapixels}")
    options = MatchOptions(threshold=threshold, include_aa=include_aa)
    return DiffSettings(options, rules, int(max_megapixels * 1_000_000))


def _document(report: FolderDiff) -> dict[str, Any]:
    counts = Counter(c.status.value for c in report.comparisons)
    return {
        "comparisons": [c.to_json() for c in report.comparisons],
        "summary": {status.value: counts.get(status.value, 0) for status in Status},
        "errors": list(report.problems) + [c.error for c in report.comparisons if c.error],
    }


def _print_table(report: FolderDiff) -> None:
    rows = [
        (
            c.status.value,
            "" if c.diff_pixels is None else str(c.diff_pixels),
            _size_text(c.baseline_size, c.candidate_size, c.width, c.height),
            c.name,
        )
        for c in report.comparisons
    ]
    if rows:
        header = ("STATUS", "DIFF PX", "SIZE", "NAME")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        for row in [header, *rows]:
            click.echo(
                "  ".join([row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]), row[3]])
            )
    counts = Counter(c.status.value for c in report.comparisons)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    click.echo(
        f"{len(report.comparisons)} screens: {summary}" if report.comparisons else "no screens compared"
    )
    for message in list(report.problems) + [c.error for c in report.comparisons if c.error]:
        click.echo(f"error: {message}", err=True)


def _size_text(
    baseline: tuple[int, int] | None, candidate: tuple[int, int] | None, width: int | None, height: int | None
) -> str:
    if baseline and candidate and baseline != candidate:
        return f"{baseline[0]}x{baseline[1]} -> {candidate[0]}x{candidate[1]}"
    return "" if width is None else f"{width}x{height}"
