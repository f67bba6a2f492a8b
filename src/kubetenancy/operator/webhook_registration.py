"""Keeps the webhook configurations applied, and the reservation webhook registered for exactly the
resources some tenant quota limits (so creating anything no quota counts never waits for the operator).

Applied at start, grown before a tenant's quota takes effect (a tenant's pass calls `cover` before its
ResourceQuotas are written), brought in line with all quotas whenever one changes, and again when CRDs
that some webhooks require come or go (the CAPA webhooks). Only writes when something changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from kubetenancy.admission.view import TenancyView
from kubetenancy.desired import webhooks
from kubetenancy.desired.webhooks import ClientConfig, WebhookSpec
from kubetenancy.k8s import Kube
from kubetenancy.model import TenantQuota


def limited_resources(view: TenancyView) -> frozenset[str]:
    """Every resource some quota of the view limits."""
    return frozenset(r for q in (*view.quotas.values(), *view.tenant_quotas.values()) for r in q.hard)


class WebhookRegistration:
    def __init__(
        self,
        kube: Kube,
        specs: list[WebhookSpec],
        client_config: ClientConfig,
        installed_crds: Callable[[Kube], Awaitable[set[str]]],
    ) -> None:
        """`installed_crds`: which of the CRDs some webhooks require exist (those webhooks are registered
        only where they do)."""
        self.kube = kube
        self.specs = specs
        self.client_config = client_config
        self.installed_crds = installed_crds
        self._applied: frozenset[str] | None = None
        self._crds: set[str] | None = None
        self._lock = asyncio.Lock()

    async def apply(self, limited: frozenset[str], *, crds_changed: bool = False) -> None:
        async with self._lock:
            if crds_changed or self._crds is None:
                self._crds = await self.installed_crds(self.kube)
            elif limited == self._applied:
                return
            specs = webhooks.installable(self.specs, self._crds)
            for configuration in webhooks.configurations(specs, self.client_config, limited):
                await self.kube.apply_if_changed(configuration)
            self._applied = limited

    async def crds_changed(self) -> None:
        """A CRD some webhook requires appeared or went: register again."""
        await self.apply(self._applied or frozenset(), crds_changed=True)

    async def cover(self, quota: TenantQuota | None) -> None:
        """Make sure the reservation webhook sees the creates this quota limits."""
        applied = self._applied or frozenset()
        if quota is not None and not set(quota.hard) <= applied:
            await self.apply(applied | set(quota.hard))

    async def follow(self, view: TenancyView) -> None:
        """Register for what the view's quotas limit now (a quota changed or went)."""
        await self.apply(limited_resources(view))
