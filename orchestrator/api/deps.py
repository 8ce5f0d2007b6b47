"""Request dependencies: the service context, a database session, role checks, and the id types
of path and query parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from orchestrator.context import Context
from orchestrator.db.models import ApiToken
from orchestrator.tokens import admits, authenticate

_bearer = HTTPBearer(auto_error=False)


def get_context(request: Request) -> Context:
    return request.app.state.instep


def get_session(ctx: Annotated[Context, Depends(get_context)]) -> Iterator[Session]:
    with ctx.db.session() as session:
        yield session


def get_read_session(ctx: Annotated[Context, Depends(get_context)]) -> Iterator[Session]:
    with ctx.db.read_session() as session:
        yield session


# Row ids are INTEGER columns: 32-bit on PostgreSQL (64-bit on SQLite). A larger number can name
# no row and must answer 422 before it reaches the driver, which fails on it (PostgreSQL "integer
# out of range", SQLite OverflowError past 2^63) and would answer 500.
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="a row id (1 to 2^31-1)")]
BeforeId = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="an id from `next_before`: items older than it")
]

ContextDep = Annotated[Context, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]


def require(*roles: str) -> Callable[..., ApiToken]:
    """A dependency that admits a valid token whose role is in `roles` (admin always passes).
    With no roles, any valid token may read."""

    def check(
        ctx: ContextDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiToken:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                401,
                "missing API token (send `Authorization: Bearer <token>`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        # A short read-only session of its own: the route's session (if any) is separate, and a
        # streaming response never keeps a transaction open through this dependency.
        with ctx.db.read_session() as session:
            token = authenticate(session, credentials.credentials)
        if token is None:
            raise HTTPException(401, "invalid or revoked API token", headers={"WWW-Authenticate": "Bearer"})
        if not admits(token.role, roles):
            needs = f"needs one of: {', '.join(roles)}" if roles else "it may only do what it was made for"
            raise HTTPException(403, f"role {token.role!r} may not do this ({needs})")
        return token

    return check


Reader = Annotated[ApiToken, Depends(require())]
Developer = Annotated[ApiToken, Depends(require("developer", "release_manager"))]
Admin = Annotated[ApiToken, Depends(require("admin"))]
