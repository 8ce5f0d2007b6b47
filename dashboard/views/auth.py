"""Sign in and out."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from dashboard.security import set_login_cookie
from dashboard.templating import render
from orchestrator.actors import login_of, signer_of
from orchestrator.context import Context
from orchestrator.logins import COOKIE, signed_in
from orchestrator.users import LoginThrottle, LoginThrottled, sign_in

router = APIRouter(include_in_schema=False)


def _throttle(ctx: Context) -> LoginThrottle:
    throttle = ctx.extras.get("login_throttle")
    if throttle is None:
        throttle = ctx.extras["login_throttle"] = LoginThrottle()
    return throttle


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never `//host` or `https://elsewhere`)."""
    if not target:
        return "/runs"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/runs"
    return target


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html.j2", {"next": _safe_next(next), "error": None, "name": ""})


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/runs",
) -> Response:
    ctx: Context = request.app.state.instep
    if not signer_of(ctx).csrf_ok(login_of(request), csrf_token):
        raise HTTPException(403, "the sign-in form expired; reload the page and try again")

    def check():  # type: ignore[no-untyped-def]
        with ctx.db.read_session() as session:
            return sign_in(session, _throttle(ctx), name, password)

    try:
        user = await to_thread.run_sync(check)
    except LoginThrottled as exc:
        refused = render(
            request,
            "login.html.j2",
            {"next": _safe_next(next), "error": str(exc), "name": name},
            status_code=429,
        )
        refused.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        return refused
    if user is None:
        return render(
            request,
            "login.html.j2",
            {"next": _safe_next(next), "error": "wrong user name or password", "name": name},
            status_code=401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_login_cookie(request, response, signed_in(user.id, user.session_version))
    return response


@router.post("/logout")
async def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    ctx: Context = request.app.state.instep
    if not signer_of(ctx).csrf_ok(login_of(request), csrf_token or request.headers.get("x-csrf-token")):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
