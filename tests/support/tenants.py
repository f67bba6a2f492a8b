"""Creating MTO Quotas and Tenants in tests and waiting until the operator made them Ready."""

from __future__ import annotations

from typing import Any

from kubetenancy.k8s import Kube
from tests.support.waiting import eventually

TENANT_API = "tenantoperator.stakater.com/v1beta3"
QUOTA_API = "tenantoperator.stakater.com/v1beta1"


def pod(name: str, namespace: str) -> dict[str, Any]:
    """The walkthroughs' `kubectl run NAME --image nginx`, as an object."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]},
    }


async def make_quota(admin: Kube, name: str, hard: dict[str, str], limits: list[dict[str, Any]] | None = None) -> None:
    spec: dict[str, Any] = {"resourcequota": {"hard": hard}}
    if limits:
        spec["limitrange"] = {"limits": limits}
    await admin.apply({"apiVersion": QUOTA_API, "kind": "Quota", "metadata": {"name": name}, "spec": spec})


async def make_tenant(admin: Kube, name: str, quota: str, **spec: Any) -> dict[str, Any]:
    """Apply a Tenant and wait until it is Ready and its namespaces have their default ServiceAccount."""
    await admin.apply(
        {"apiVersion": TENANT_API, "kind": "Tenant", "metadata": {"name": name}, "spec": {"quota": quota, **spec}}
    )
    tenant: dict[str, Any] = {}

    async def ready() -> bool:
        nonlocal tenant
        tenant = await admin.get(TENANT_API, "Tenant", name) or {}
        conditions = (tenant.get("status") or {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    await eventually(ready)
    for ns in tenant["status"]["namespaces"]:

        async def has_account(ns: str = ns) -> bool:
            return await admin.get("v1", "ServiceAccount", "default", ns) is not None

        await eventually(has_account)
    return tenant
