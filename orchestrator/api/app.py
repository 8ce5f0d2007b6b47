"""The FastAPI application: API routers, error shapes, health."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import FastAPI

from orchestrator.api import projects, reviews, runs, webhooks
from orchestrator.api.problems import document_problems
from orchestrator.context import Context
from orchestrator.notifications.routes import router as notifications_router
from orchestrator.parity.routes import router as parity_router
from orchestrator.releases.audit_routes import router as audit_router
from orchestrator.releases.routes import router as releases_router


def create_app(ctx: Context, extensions: Sequence[Callable[[FastAPI], None]] = ()) -> FastAPI:
    """The service's app; `extensions` add to it (the server passes the dashboard's pages, so
    the orchestrator never imports the dashboard)."""
    app = FastAPI(
        title="Instep",
        version="0.1.0",
        description="Mobile continuous delivery, in step with the web.",
        openapi_url="/openapi.json",
    )
    app.state.instep = ctx
    app.include_router(webhooks.router)
    app.include_router(projects.router)
    app.include_router(runs.router)
    app.include_router(reviews.router)
    app.include_router(releases_router)
    app.include_router(notifications_router)
    app.include_router(parity_router)
    app.include_router(audit_router)

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "mode": "embedded" if ctx.settings.embedded else "distributed"}

    for extend in extensions:
        extend(app)
    document_problems(app)
    return app
