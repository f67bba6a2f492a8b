"""Starting kubetenancy's small aiohttp servers (probes, admission, TokenReview, aggregated API) one way."""

from __future__ import annotations

import ssl
from collections.abc import Sequence

from aiohttp import web


async def start_site(
    routes: Sequence[web.RouteDef], addr: str, port: int, context: ssl.SSLContext | None = None
) -> web.AppRunner:
    """Serve `routes` on addr:port (TLS when `context` is given); clean up with `runner.cleanup()`."""
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, addr, port, ssl_context=context).start()
    return runner
