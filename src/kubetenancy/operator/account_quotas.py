"""Kiosk AccountQuota status: what each account uses, per space and in total, as Kiosk reports it.

Usage comes from the status of the ResourceQuota kubetenancy keeps in each tenant namespace (Kubernetes'
quota controller computes it); the limits from the AccountQuota. A status is written only when it
changed. This reports; it enforces nothing (the tenant-quota webhooks do).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from kubetenancy.admission.view import TenancyView
from kubetenancy.frontdoors.kiosk import account_quota_status
from kubetenancy.frontdoors.table import QuotaDoor
from kubetenancy.k8s import Kube


class AccountQuotaReporter:
    def __init__(self, kube: Kube, view: TenancyView, door: QuotaDoor) -> None:
        """`door`: the quotas that name their tenant whose status reports usage (Kiosk's AccountQuotas)."""
        self.kube = kube
        self.view = view
        self.door = door
        self.used: defaultdict[str, dict[str, dict[str, str]]] = defaultdict(dict)
        """Per tenant, per namespace: status.used of its ResourceQuota."""
        self.reported: dict[str, dict[str, Any]] = {}

    async def namespace_used(self, tenant: str, namespace: str, quota_status: dict[str, Any]) -> None:
        used = dict(quota_status.get("used") or {})
        if self.used[tenant].get(namespace) == used:
            return
        self.used[tenant][namespace] = used
        for name, quota in list(self.view.tenant_quotas.items()):
            if quota.tenant == tenant:
                await self.report(name)

    async def report(self, name: str) -> None:
        """Write the AccountQuota's status if it differs from what was last written."""
        quota = self.view.tenant_quotas.get(name)
        if quota is None or quota.tenant is None:
            return
        account = quota.tenant
        tenant = self.view.tenants.get(account)
        namespaces = set(tenant.namespace_names()) if tenant else set()
        used = {ns: u for ns, u in self.used[account].items() if ns in namespaces}
        status = account_quota_status(quota.hard, used)
        if self.reported.get(name) != status:
            await self.kube.patch_status(self.door.served.api_version, self.door.served.kind, name, status)
            self.reported[name] = status
