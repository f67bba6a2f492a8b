"""The console's guards, as aiohttp middlewares: sessions, CSRF, token refresh and security headers.

- Every page but the login pages and static assets needs a live session; without one the browser is
  sent to `/login` (htmx requests get `HX-Redirect`), and nothing of the page is rendered.
- Every state change is a POST that must carry the session's CSRF token (form field `csrf` or header
  `X-CSRF-Token`) and must not come from another site (`Sec-Fetch-Site: cross-site` or a foreign
  `Origin` are refused). The session cookie is `SameSite=Lax`, `Secure` and `HttpOnly`.
- An OIDC session's ID token is refreshed shortly before it expires; if the provider refuses, the
  session ends.
- Responses carry a strict Content-Security-Policy (scripts only from the console itself).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubetenancy.console.oidc import OidcClient, OidcError, expired
from kubetenancy.console.sessions import SESSION_COOKIE, Session, SessionStore, csrf_ok

PUBLIC_PREFIXES = ("/login", "/callback", "/static/", "/healthz")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STORE: web.AppKey[SessionStore] = web.AppKey("sessions", SessionStore)
OIDC: web.AppKey[OidcClient | None] = web.AppKey("oidc", OidcClient)
ORIGIN: web.AppKey[str] = web.AppKey("origin", str)
log = logging.getLogger(__name__)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _public(path: str) -> bool:
    return any(path == p.rstrip("/") or path.startswith(p if p.endswith("/") else p + "/") for p in PUBLIC_PREFIXES)


def same_site_request(request: web.Request) -> bool:
    """False for a request another site's page made (a cross-site form post, a foreign fetch)."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin == request.app[ORIGIN]


def session_of(request: web.Request) -> Session:
    session: Session = request["session"]
    return session


def _to_login(request: web.Request) -> web.StreamResponse:
    if request.headers.get("HX-Request"):
        return web.Response(status=401, headers={"HX-Redirect": "/login"})
    if request.method == "GET":
        raise web.HTTPSeeOther(f"/login?next={request.rel_url.path}")
    raise web.HTTPSeeOther("/login")


_refreshing: dict[str, asyncio.Lock] = {}


async def _fresh(request: web.Request, session: Session) -> bool:
    """Refresh the ID token if it is about to expire; False when the session cannot go on."""
    oidc = request.app[OIDC]
    if session.tokens is None or not expired(session.tokens):
        return True
    if oidc is None or session.tokens.refresh_token is None:
        return False
    async with _refreshing.setdefault(session.id, asyncio.Lock()):
        if not expired(session.tokens):
            return True
        try:
            request.app[STORE].refreshed(session, await oidc.refresh(session.tokens.refresh_token))
        except OidcError as error:
            log.info("session of %s ended: %s", session.user, error)
            return False
    return True


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    store = request.app[STORE]
    session = store.get(request.cookies.get(SESSION_COOKIE))
    if session is not None and not await _fresh(request, session):
        store.end(session.id)
        session = None
    if request.method not in ("GET", "HEAD") and not same_site_request(request):
        raise web.HTTPForbidden(text="Forbidden: cross-site requests are refused by the console")
    if not _public(request.path):
        if session is None:
            return _to_login(request)
        request["session"] = session
        if request.method not in ("GET", "HEAD"):
            offered = request.headers.get("X-CSRF-Token")
            if offered is None and request.content_type == "application/x-www-form-urlencoded":
                offered = str((await request.post()).get("csrf") or "") or None
            if not csrf_ok(session, offered):
                raise web.HTTPForbidden(text="Forbidden: the form's CSRF token is missing or wrong; reload the page")
    return await handler(request)


def csp(identity_provider: str | None) -> str:
    form_targets = "'self'" + (f" {origin_of(identity_provider)}" if identity_provider else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"form-action {form_targets}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


def headers_middleware(policy: str) -> Middleware:
    @web.middleware
    async def add_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault(
            "Referrer-Policy", "same-origin"
        )  # "no-referrer" makes form posts send Origin: null
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return add_headers


def set_session_cookie(response: web.StreamResponse, session: Session, store: SessionStore) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        max_age=int(store.max_seconds),
        path="/",
        secure=True,
        httponly=True,
        samesite="Lax",
    )


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    """Delete a `__Host-` cookie (the deletion must carry the same Secure, path and no domain)."""
    response.set_cookie(name, "", max_age=0, path="/", secure=True, httponly=True, samesite="Lax")
