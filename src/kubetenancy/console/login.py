"""Logging in and out: single sign-on through the OIDC provider, or a bearer token (clusters without OIDC).

Either way the API server decides who the user is: a session is made only after a SelfSubjectReview
with the user's token succeeds, and it records the user name and groups the API server answered.
Tokens are kept in the session store, never put in a page, a cookie or a log line.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from aiohttp import web

from kubetenancy.console.data import UserApi
from kubetenancy.console.oidc import OidcError, Tokens
from kubetenancy.console.render import API, render
from kubetenancy.console.security import OIDC, ORIGIN, STORE, clear_cookie, session_of, set_session_cookie
from kubetenancy.console.sessions import LOGIN_COOKIE, LOGIN_SECONDS, SESSION_COOKIE

routes = web.RouteTableDef()


def _next_path(value: str | None) -> str:
    """Only a local path (never another site) may be where a login ends."""
    if not value or not value.startswith("/") or value.startswith("//") or urlsplit(value).netloc:
        return "/"
    return value


def _callback(request: web.Request) -> str:
    return f"{request.app[ORIGIN]}/callback"


@routes.get("/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    return render(
        request,
        "login.html",
        sso=request.app[OIDC] is not None,
        next=_next_path(request.query.get("next")),
        logged_out="logged_out" in request.query,
        error=None,
    )


@routes.post("/login/sso")
async def start_sso(request: web.Request) -> web.StreamResponse:
    oidc = request.app[OIDC]
    if oidc is None:
        raise web.HTTPNotFound(text="single sign-on is not configured for this console")
    form = await request.post()
    try:
        start = await oidc.start(_callback(request))
    except OidcError as error:
        return render(request, "login.html", sso=True, next="/", logged_out=False, error=str(error), status=502)
    login_id = request.app[STORE].remember_login(start, _next_path(str(form.get("next") or "")))
    response = web.HTTPSeeOther(start.url)
    response.set_cookie(
        LOGIN_COOKIE, login_id, max_age=int(LOGIN_SECONDS), path="/", secure=True, httponly=True, samesite="Lax"
    )
    raise response


async def _start_session(request: web.Request, token: str, tokens: Tokens | None, next_path: str) -> web.StreamResponse:
    who = await UserApi(request.app[API], token).whoami()
    if who is None:
        message = (
            "the API server did not accept this login: Unauthorized"
            if tokens is not None
            else "the API server did not accept this token: Unauthorized"
        )
        return render(
            request,
            "login.html",
            sso=request.app[OIDC] is not None,
            next=next_path,
            logged_out=False,
            error=message,
            status=401,
        )
    store = request.app[STORE]
    session = store.create(who[0], who[1], token, tokens)
    response = web.HTTPSeeOther(next_path)
    set_session_cookie(response, session, store)
    clear_cookie(response, LOGIN_COOKIE)
    raise response


@routes.get("/callback")
async def callback(request: web.Request) -> web.StreamResponse:
    oidc = request.app[OIDC]
    pending = request.app[STORE].take_login(request.cookies.get(LOGIN_COOKIE), request.query.get("state", ""))
    if oidc is None or pending is None:
        return render(
            request, "login.html", sso=oidc is not None, next="/", logged_out=False,
            error="this login was not started here or has expired; log in again", status=400,
        )  # fmt: skip
    start, next_path = pending
    if "error" in request.query:
        error = request.query.get("error_description") or request.query["error"]
        return render(request, "login.html", sso=True, next=next_path, logged_out=False, error=error, status=401)
    try:
        tokens = await oidc.exchange(request.query.get("code", ""), _callback(request), start.verifier, start.nonce)
    except OidcError as error:
        return render(request, "login.html", sso=True, next=next_path, logged_out=False, error=str(error), status=401)
    return await _start_session(request, tokens.id_token, tokens, next_path)


@routes.post("/login/token")
async def token_login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    token = str(form.get("token") or "").strip()
    next_path = _next_path(str(form.get("next") or ""))
    if not token:
        return render(
            request,
            "login.html",
            sso=request.app[OIDC] is not None,
            next=next_path,
            logged_out=False,
            error="paste a bearer token",
            status=400,
        )
    return await _start_session(request, token, None, next_path)


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    session = request.app[STORE].end(session_of(request).id)
    target = "/login?logged_out=1"
    oidc = request.app[OIDC]
    if oidc is not None and session is not None and session.tokens is not None:
        with contextlib.suppress(OidcError):  # the console's session is gone either way
            target = await oidc.logout_url(session.tokens.id_token, f"{request.app[ORIGIN]}{target}") or target
    response = web.HTTPSeeOther(target)
    clear_cookie(response, SESSION_COOKIE)
    raise response
