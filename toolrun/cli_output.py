"""How CLI commands print: JSON for machines, short text for people, errors on stderr."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import click


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"instep: error: {message}", err=True)
    raise SystemExit(code)


def table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    for row in [headers, *rows]:
        click.echo("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip())


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
