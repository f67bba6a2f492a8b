"""Live updates: `/events` is a Server-Sent Events stream that says `changed` when something the user
sees changes, and htmx then re-fetches the page's content.

The stream watches, with the user's own token, what the pages are drawn from: Tenants, Accounts,
namespaces (or Spaces), ResourceQuotas and both template-instance APIs — cluster-wide where the user
may watch them, else in each of the user's namespaces. Each watch starts from a list's resource version,
and the first event is sent once the watches stand (so a change made while the page was being drawn is
not missed); each watch is renewed with the session's current token when the API server
ends it. The stream ends with the session (logout or expiry). Bursts are coalesced into one event
per `COALESCE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from kubetenancy.console import data
from kubetenancy.console.render import API
from kubetenancy.console.security import STORE, session_of
from kubetenancy.console.sessions import Session
from kubetenancy.k8s.passthrough import Passthrough, Unreachable

routes = web.RouteTableDef()
COALESCE_SECONDS = 0.3
KEEPALIVE_SECONDS = 15.0
WATCH_SECONDS = 300
MAX_NAMESPACE_WATCHES = 50


async def _watch(api: Passthrough, session: Session, path: str, changed: asyncio.Event) -> None:
    """List then watch `path` as the session's user until cancelled; set `changed` on every event."""
    while True:
        code, listing = await api.request("GET", path, params={"limit": "1"}, token=session.token)
        if code != 200:
            return  # not the user's to watch: the page shows the API server's message instead
        version = str((listing.get("metadata") or {}).get("resourceVersion", ""))
        changed.set()  # whatever changed between the page's render and this watch's start is caught up
        params = {"resourceVersion": version, "timeoutSeconds": str(WATCH_SECONDS), "allowWatchBookmarks": "true"}
        try:
            async for event in api.watch(path, params, token=session.token):
                if event.get("type") == "ERROR":
                    break
                if event.get("type") != "BOOKMARK":
                    changed.set()
        except Unreachable:
            await asyncio.sleep(2)


async def _paths(request: web.Request) -> list[str]:
    user = data.UserApi(request.app[API], session_of(request).token)
    namespaces, from_spaces = await data.visible_namespaces(user)
    names = sorted(n["metadata"]["name"] for n in namespaces.items)[:MAX_NAMESPACE_WATCHES]
    paths = [data.TENANTS, data.ACCOUNTS, data.SPACES if from_spaces else data.NAMESPACES]
    for prefix, plural in [("/api/v1", "resourcequotas")] + [
        (p, "templateinstances") for p in data.INSTANCE_APIS.values()
    ]:
        everything = await user.list(f"{prefix}/{plural}", params={"limit": "1"})
        paths += (
            [f"{prefix}/{plural}"]
            if everything.denied is None
            else [data.namespaced(prefix, ns, plural) for ns in names]
        )
    return paths


@routes.get("/events")
async def events(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await response.prepare(request)
    changed = asyncio.Event()
    session = session_of(request)
    watches = [asyncio.create_task(_watch(request.app[API], session, path, changed)) for path in await _paths(request)]
    try:
        while request.app[STORE].alive(session.id):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), KEEPALIVE_SECONDS)
            if changed.is_set():
                await asyncio.sleep(COALESCE_SECONDS)
                changed.clear()
                await response.write(b"event: changed\ndata: changed\n\n")
            else:
                await response.write(b": keep-alive\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        for watch in watches:
            watch.cancel()
        await asyncio.gather(*watches, return_exceptions=True)
    return response
