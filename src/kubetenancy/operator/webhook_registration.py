"""Keeps the webhook configurations applied, and the reservation webhook registered for exactly the
resources some tenant quota limits (so creating anything no quota counts never waits for the operator).

Applied at start, grown before a tenant's quota takes effect (a tenant's pass calls `cover` before its
ResourceQuotas are written), and brought in line with all quotas whenever one changes. Only writes when
the set of limited resources changed.
"""

from __future__ import annotations

import asyncio

from kubetenancy.admission.view import TenancyView
from kubetenancy.desired import webhooks
from kubetenancy.desired.webhooks import ClientConfig, WebhookSpec
from kubetenancy.k8s import Kube
from kubetenancy.model import TenantQuota


def limited_resources(view: TenancyView) -> frozenset[str]:
    """Every resource some quota of the view limits."""
    return frozenset(r for q in (*view.quotas.values(), *view.tenant_quotas.values()) for r in q.hard)


class WebhookRegistration:
    def __init__(self, kube: Kube, specs: list[WebhookSpec], client_config: ClientConfig) -> None:
        self.kube = kube
        self.specs = specs
        self.client_config = client_config
        self._applied: frozenset[str] | None = None
        self._lock = asyncio.Lock()

    async def apply(self, limited: frozenset[str]) -> None:
        async with self._lock:
            if limited == self._applied:
                return
            for configuration in webhooks.configurations(self.specs, self.client_config, limited):
                await self.kube.apply_if_changed(configuration)
            self._applied = limited

    async def cover(self, quota: TenantQuota | None) -> None:
        """Make sure the reservation webhook sees the creates this quota limits."""
        applied = self._applied or frozenset()
        if quota is not None and not set(quota.hard) <= applied:
            await self.apply(applied | set(quota.hard))

    async def follow(self, view: TenancyView) -> None:
        """Register for what the view's quotas limit now (a quota changed or went)."""
        await self.apply(limited_resources(view))
