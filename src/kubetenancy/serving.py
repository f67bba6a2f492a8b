"""Starting kubetenancy's small aiohttp servers (probes, admission, TokenReview, aggregated API) one way."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from pathlib import Path

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


def tls_context(cert_file: Path, key_file: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """A server's TLS context. With `client_ca`, only clients presenting a certificate that CA signed get
    past the handshake (mutual TLS), so no request of anyone else is ever read; the system's CAs are not
    trusted for clients."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=client_ca)
    context.load_cert_chain(cert_file, key_file)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
    return context
