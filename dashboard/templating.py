"""Jinja2 with autoescaping everywhere, and the one function pages render through."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from dashboard.security import csrf_for, set_login_cookie

TEMPLATES = Path(__file__).resolve().parent / "templates"
NAV = [
    ("runs", "Runs", "/runs"),
    ("devices", "Devices", "/devices"),
    ("releases", "Releases", "/releases"),
    ("parity", "Web parity", "/parity"),
    ("audit", "Audit", "/audit"),
]


def duration(start: datetime | None, end: datetime | None, now: datetime | None = None) -> str:
    """`1m 05s`-style duration; a running one counts up to now; empty when never started."""
    if start is None:
        return ""
    end = end or now or datetime.now(UTC)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    seconds = max(0, int((end - start).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(duration=duration, when=when, short_ref=short_ref)
    env.globals.update(nav=NAV)
    return env


ENV = _environment()


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    csrf, fresh = csrf_for(request)
    html = ENV.get_template(template).render(
        request=request,
        actor=getattr(request.state, "actor", None),
        csrf=csrf,
        htmx=request.headers.get("hx-request") == "true",
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
    if fresh is not None:
        set_login_cookie(request, response, fresh)
    return response
