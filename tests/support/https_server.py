"""A small HTTPS server on loopback for tests that play a webhook or an aggregated API server."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from kubetenancy import pki
from kubetenancy.localcluster.processes import free_port


@dataclass(frozen=True)
class Served:
    url: str
    port: int
    ca_file: Path
    ca_pem: bytes


@asynccontextmanager
async def serve_https(
    app: web.Application,
    directory: Path,
    *,
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
    client_ca: Path | None = None,
) -> AsyncIterator[Served]:
    """Serve `app` over TLS with a fresh CA; require client certificates from `client_ca` if given."""
    ca = pki.new_ca("test-server-ca")
    ca_file, _ = ca.write(directory, "server-ca")
    cert_file, key_file = pki.issue(ca, "test-server", hosts=hosts, server=True).write(directory, "server")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    try:
        yield Served(f"https://127.0.0.1:{port}", port, ca_file, ca.cert_pem)
    finally:
        await runner.cleanup()
