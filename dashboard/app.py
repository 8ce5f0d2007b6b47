"""Wiring: the page routers, static files, security headers and HTML error pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from dashboard.security import SecurityHeaders, wants_html
from dashboard.templating import render
from dashboard.views import audit, auth, devices, live, parity, pwa, releases, review, runs

STATIC = Path(__file__).resolve().parent / "static"


def install(app: FastAPI) -> None:
    """Add the dashboard to the service's app: pages under `/`, static files under `/static`."""
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, runs, review, releases, parity, audit, devices, live, pwa):
        app.include_router(module.router)
    previous = app.exception_handlers.get(StarletteHTTPException)

    async def html_errors(request: Request, exc: StarletteHTTPException) -> Response:
        # API clients keep their JSON problems; people in a browser get a page (or the login).
        if not wants_html(request):
            if previous is not None:
                return await previous(request, exc)  # type: ignore[misc]
            from fastapi.exception_handlers import http_exception_handler

            return await http_exception_handler(request, exc)
        if exc.status_code == 401:
            target = f"/login?next={quote(request.url.path)}"
            if request.headers.get("hx-request") == "true":
                return Response(status_code=204, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        return render(
            request,
            "error.html.j2",
            {"status": exc.status_code, "message": exc.detail},
            status_code=exc.status_code,
        )

    # Starlette types handlers as taking any Exception; this one is registered for HTTPException.
    app.add_exception_handler(StarletteHTTPException, html_errors)  # type: ignore[arg-type]
