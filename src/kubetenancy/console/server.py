"""The console's composition root: the aiohttp application, its TLS site, and `run`.

Static assets are the console's own stylesheet and the npm packages in `assets/node_modules`
(installed from `assets/package.json` by the Makefile; never fetched by the browser from elsewhere).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from importlib.resources import files
from pathlib import Path

from aiohttp import web

from kubetenancy.console import live, login, pages
from kubetenancy.console.config import ConsoleConfig
from kubetenancy.console.oidc import OidcClient
from kubetenancy.console.render import API
from kubetenancy.console.security import OIDC, ORIGIN, STORE, csp, guard, headers_middleware, origin_of
from kubetenancy.console.sessions import SessionStore
from kubetenancy.k8s.passthrough import Passthrough

ASSETS = Path(str(files("kubetenancy.console"))) / "assets"
VENDORED = {
    "htmx.min.js": "node_modules/htmx.org/dist/htmx.min.js",
    "sse.js": "node_modules/htmx-ext-sse/dist/sse.min.js",
    "pico.min.css": "node_modules/@picocss/pico/css/pico.min.css",
}
log = logging.getLogger(__name__)


def _missing_assets() -> list[str]:
    return [path for path in VENDORED.values() if not (ASSETS / path).exists()]


async def _asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    relative = VENDORED.get(name) or (f"console/{name}" if name in ("console.css", "console.js") else None)
    if relative is None:
        raise web.HTTPNotFound()
    response = web.FileResponse(ASSETS / relative)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def build_app(config: ConsoleConfig) -> web.Application:
    missing = _missing_assets()
    if missing:
        raise RuntimeError(f"console assets missing ({', '.join(missing)}): run `npm ci --prefix {ASSETS}`")
    app = web.Application(middlewares=[headers_middleware(csp(config.issuer)), guard], client_max_size=64 * 1024)
    app[STORE] = SessionStore(idle_seconds=config.idle_seconds, max_seconds=config.max_seconds)
    app[ORIGIN] = origin_of(config.public_url)
    app[API] = Passthrough(config.api_kubeconfig())
    oidc = None
    if config.issuer:
        context = (
            ssl.create_default_context(cafile=config.issuer_ca_file)
            if config.issuer_ca_file
            else ssl.create_default_context()
        )
        secret = config.client_secret_file.read_text().strip() if config.client_secret_file else ""
        oidc = OidcClient(config.issuer, config.client_id, secret, context)
    app[OIDC] = oidc

    async def close(_: web.Application) -> None:
        await app[API].close()
        if oidc is not None:
            await oidc.close()

    app.on_cleanup.append(close)
    app.add_routes(login.routes)
    app.add_routes(pages.routes)
    app.add_routes(live.routes)
    app.router.add_get("/static/{name}", _asset)
    return app


async def serve(config: ConsoleConfig) -> None:
    context = None
    if config.cert_file and config.key_file:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(config.cert_file, config.key_file)
    runner = web.AppRunner(build_app(config), handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, config.addr, config.port, ssl_context=context, shutdown_timeout=2).start()
    scheme = "https" if context else "http"
    log.info("console serving on %s://%s:%d (%s)", scheme, config.addr, config.port, config.public_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def run(config: ConsoleConfig) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(config))
