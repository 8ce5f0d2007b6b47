"""The installable app: web manifest and the service worker, served from the site's root so
the worker's scope covers every page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, Response

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static"

MANIFEST = {
    "name": "Instep",
    "short_name": "Instep",
    "description": "Runs, screenshot review and releases in step with the web",
    "start_url": "/runs",
    "scope": "/",
    "display": "standalone",
    "background_color": "#f6f7fb",
    "theme_color": "#2f6fed",
    "icons": [
        {"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
        {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
    ],
}


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    return JSONResponse(MANIFEST, media_type="application/manifest+json")


@router.get("/sw.js")
def service_worker() -> Response:
    return FileResponse(
        STATIC / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )
