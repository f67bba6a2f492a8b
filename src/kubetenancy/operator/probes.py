"""Health, readiness and Prometheus metrics on one small HTTP port."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest

ADMISSION_REVIEWS = Counter(
    "kubetenancy_admission_reviews",
    "Admission reviews answered, by webhook and verdict",
    ["webhook", "allowed"],
)
RECONCILES = Counter("kubetenancy_tenant_reconciles", "Tenant reconciliations, by outcome", ["outcome"])
READY = Gauge("kubetenancy_ready", "1 once the CRDs are established and the webhooks are served")


class Probes:
    """`/healthz` answers while the event loop runs; `/readyz` once startup has finished."""

    def __init__(self) -> None:
        self.ready = False
        self._runner: web.AppRunner | None = None

    def mark_ready(self) -> None:
        self.ready = True
        READY.set(1)

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _readyz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok") if self.ready else web.Response(status=503, text="starting")

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, addr: str, port: int) -> None:
        app = web.Application()
        app.add_routes(
            [
                web.get("/healthz", self._healthz),
                web.get("/readyz", self._readyz),
                web.get("/metrics", self._metrics),
            ]
        )
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, addr, port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
