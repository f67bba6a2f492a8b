"""Health, readiness and Prometheus metrics on one small HTTP port."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from kubetenancy.serving import start_site

ADMISSION_REVIEWS = Counter(
    "kubetenancy_admission_reviews",
    "Admission reviews answered, by webhook and verdict",
    ["webhook", "allowed"],
)
ADMISSION_SECONDS = Histogram(
    "kubetenancy_admission_seconds",
    "Time from receiving an AdmissionReview to answering it, by webhook",
    ["webhook"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1),
)
RESERVATIONS_HELD = Histogram(
    "kubetenancy_quota_reservation_seconds",
    "How long a tenant-quota reservation held room, by how it ended: counted (Kubernetes' quota admission "
    "counted its object) or expired (never counted: the object failed later, or the review was made up)",
    ["outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)
RECONCILES = Counter("kubetenancy_tenant_reconciles", "Tenant reconciliations, by outcome", ["outcome"])
READY = Gauge("kubetenancy_ready", "1 once the CRDs are established and the webhooks are served")
CORE_RESTARTS = Counter(
    "kubetenancy_operator_core_restarts",
    "Restarts of the operator's core (kopf, the index, the admission server) after it failed in a process "
    "that had been ready",
)


class Probes:
    """`/healthz` answers while the event loop runs; `/readyz` once startup has finished. One instance
    lives as long as the process, across restarts of the operator's core: `served` tells whether the
    process was ever ready."""

    def __init__(self) -> None:
        self.ready = False
        self.served = False
        self._runner: web.AppRunner | None = None

    def mark_ready(self) -> None:
        self.ready = self.served = True
        READY.set(1)

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _readyz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok") if self.ready else web.Response(status=503, text="starting")

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self, addr: str, port: int) -> None:
        routes = [
            web.get("/healthz", self._healthz),
            web.get("/readyz", self._readyz),
            web.get("/metrics", self._metrics),
        ]
        self._runner = await start_site(routes, addr, port)

    async def stop(self) -> None:
        self.ready = False
        READY.set(0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
