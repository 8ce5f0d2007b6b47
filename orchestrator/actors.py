"""Who is acting: the person behind a dashboard session or the name of an API token, with the
role that decides what they may do. Routes and pages ask for an `Actor`; they never read
cookies or tokens themselves.

`require_actor(*roles)` is the FastAPI dependency: a bearer token or a signed session cookie,
and for a session a valid CSRF token on every state-changing request (header `X-CSRF-Token`
or form field `csrf_token`). Roles work exactly as for API tokens (`tokens.allows`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from anyio import to_thread
from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from orchestrator.context import Context
from orchestrator.db.models import User
from orchestrator.logins import COOKIE, CSRF_FIELD, CSRF_HEADER, LoginSession, SessionSigner
from orchestrator.tokens import admits, allows, authenticate

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    via: Literal["session", "token"]

    def may(self, *roles: str) -> bool:
        """Whether this actor may take an action open to `roles` (admin may do everything)."""
        return allows(self.role, roles)

    @property
    def label(self) -> str:
        """How the actor is recorded on what they did (`user:NAME` or `token:NAME`)."""
        return f"{'user' if self.via == 'session' else 'token'}:{self.name}"


class NotSignedIn(HTTPException):
    def __init__(self) -> None:
        super().__init__(
            401,
            "sign in or send an API token (`Authorization: Bearer <token>`)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def signer_of(ctx: Context) -> SessionSigner:
    """One signer per service context, keyed from the settings' secret key."""
    signer = ctx.extras.get("session_signer")
    if signer is None:
        signer = ctx.extras["session_signer"] = SessionSigner(ctx.settings.secret_key)
    return signer


def login_of(request: Request) -> LoginSession | None:
    """The signed session cookie's contents (anonymous or signed in), or None."""
    ctx: Context = request.app.state.instep
    return signer_of(ctx).loads(request.cookies.get(COOKIE))


def user_of_login(session: Session, login: LoginSession | None) -> User | None:
    """The signed-in user, unless the account is gone or its password changed since."""
    if login is None or login.user_id is None:
        return None
    user = session.get(User, login.user_id)
    if user is None or user.session_version != login.version:
        return None
    return user


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _resolve(ctx: Context, bearer: str | None, login: LoginSession | None) -> Actor | None:
    with ctx.db.read_session() as session:
        if bearer is not None:
            token = authenticate(session, bearer)
            if token is None:
                raise HTTPException(
                    401, "invalid or revoked API token", headers={"WWW-Authenticate": "Bearer"}
                )
            return Actor(token.name, token.role, "token")
        user = user_of_login(session, login)
        return Actor(user.name, user.role, "session") if user else None


async def csrf_token_of(request: Request) -> str | None:
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def current_actor(request: Request) -> Actor | None:
    """The actor behind this request, or None for an anonymous one. A session on a
    state-changing request must carry its CSRF token (403 otherwise)."""
    ctx: Context = request.app.state.instep
    bearer = _bearer(request)
    login = None if bearer else login_of(request)
    if bearer is None and (login is None or login.user_id is None):
        return None
    actor = await to_thread.run_sync(_resolve, ctx, bearer, login)
    if actor is not None and actor.via == "session" and request.method not in SAFE_METHODS:
        if not signer_of(ctx).csrf_ok(login, await csrf_token_of(request)):
            raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
    return actor


def require_actor(*roles: str) -> Callable[[Request], Awaitable[Actor]]:
    """A dependency that yields the acting person or token; with `roles`, only those (and admin)."""

    async def dependency(request: Request) -> Actor:
        actor = await current_actor(request)
        if actor is None:
            raise NotSignedIn()
        if not admits(actor.role, roles):
            needs = f"needs one of: {', '.join(roles)}" if roles else "it may only do what it was made for"
            raise HTTPException(403, f"role {actor.role!r} may not do this ({needs})")
        return actor

    return dependency


# Any signed-in person or valid token: for reads a browser makes by itself (images, downloads).
Viewer = Annotated[Actor, Depends(require_actor())]
