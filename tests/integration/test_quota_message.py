"""A tenant-wide quota refusal on ConfigMaps says that each namespace's kube-root-ca.crt counts, as
Kubernetes counts it (real API server, its root-CA publisher and quota controller, a real owner)."""

from __future__ import annotations

from typing import Any

import pytest

from kubetenancy.k8s import ApiError, Kube
from tests.support.tenants import make_quota, make_tenant
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def configmap(name: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}}


async def test_the_configmap_quota_message_counts_kube_root_ca(operator: str, admin: Kube, user_client: Any) -> None:
    await make_quota(admin, "cm-quota", {"configmaps": "3"})
    await make_tenant(
        admin,
        "cmq",
        "cm-quota",
        namespaces={"withTenantPrefix": ["a", "b"]},
        accessControl={"owners": {"users": ["alice"]}},
    )
    for ns in ("cmq-a", "cmq-b"):

        async def counted(ns: str = ns) -> bool:
            quota = await admin.get("v1", "ResourceQuota", "kubetenancy-tenant-quota", ns)
            return ((quota or {}).get("status") or {}).get("used", {}).get("configmaps") == "1"

        await eventually(counted)  # kube-root-ca.crt, published by Kubernetes into every namespace
    owner = user_client("alice")
    await owner.create(configmap("mine", "cmq-a"))
    with pytest.raises(ApiError) as raised:
        await owner.create(configmap("second", "cmq-b"))
    message = raised.value.status.message
    assert "exceeded tenant quota: cm-quota" in message
    assert "used: configmaps=3, limited: configmaps=3" in message
    assert (
        "the configmaps used include the kube-root-ca.crt Kubernetes puts in each of the tenant's namespaces (2 of them"
        in message
    )
