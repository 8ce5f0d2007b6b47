"""Security headers on every answer (a strict Content-Security-Policy: scripts and styles only
from our own static files), the session cookie, and who is signed in as pages see it."""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.actors import Actor, current_actor, login_of, signer_of
from orchestrator.context import Context
from orchestrator.logins import COOKIE, MAX_AGE_SECONDS, LoginSession, anonymous
from orchestrator.tokens import admits

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
    ]
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Plain ASGI middleware (it never buffers a streamed answer such as a live log)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((n, v) for n, v in HEADERS if n not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def service_of(request: Request) -> Context:
    """The service's context (database, stores, dispatcher) the pages read and act through."""
    return request.app.state.instep


def wants_html(request: Request) -> bool:
    """A page request from a browser (not the API, not a script asking for JSON)."""
    if request.url.path.startswith("/api/") or request.url.path == "/openapi.json":
        return False
    return "text/html" in request.headers.get("accept", "") or request.headers.get("hx-request") == "true"


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def set_login_cookie(request: Request, response: Response, login: LoginSession) -> None:
    signer = signer_of(request.app.state.instep)
    response.set_cookie(
        COOKIE,
        signer.dumps(login),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def csrf_for(request: Request) -> tuple[str, LoginSession | None]:
    """The CSRF token for forms on this page, and a new anonymous login when the visitor has
    none yet (the caller sets its cookie)."""
    login = login_of(request)
    fresh = None
    if login is None:
        login = fresh = anonymous()
    return signer_of(request.app.state.instep).csrf_token(login), fresh


async def page_actor(request: Request) -> Actor:
    """The signed-in person (or token) for a page; anonymous visitors are sent to the login."""
    actor = await current_actor(request)
    if actor is None:
        raise HTTPException(401, "sign in to see this page")
    if not admits(actor.role, ()):
        raise HTTPException(403, f"your role ({actor.role}) may not see the dashboard")
    request.state.actor = actor
    return actor


def refuse_unless(actor: Actor, *roles: str) -> None:
    """403 for an action the actor's role may not take (the page does not offer it either)."""
    if not actor.may(*roles):
        raise HTTPException(
            403, f"your role ({actor.role}) may not do this; it needs one of: {', '.join(roles)}"
        )
