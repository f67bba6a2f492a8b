"""A tenant over its life: changes are pruned, an unchanged tenant costs no write, deletion keeps the
namespaces unless onDeletePurgeNamespaces asks otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from kubetenancy.k8s import Kube
from tests.support.kubectl import Kubectl
from tests.support.metrics import metric
from tests.support.tenants import TENANT_API, make_quota, make_tenant
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
RBAC = "rbac.authorization.k8s.io/v1"
MANAGED_KINDS = (
    (RBAC, "RoleBinding"),
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
)


async def test_removed_members_lose_their_role_bindings(operator: str, admin: Kube) -> None:
    await make_quota(admin, "life-q1", {"pods": "5"})
    members = {"owners": {"users": ["alice"]}, "editors": {"users": ["bob"]}}
    await make_tenant(admin, "life-prune", "life-q1", namespaces={"withTenantPrefix": ["a"]}, accessControl=members)
    names = {b["metadata"]["name"] for b in await admin.list(RBAC, "RoleBinding", namespace="life-prune-a")}
    assert names == {"kubetenancy-owner-admin", "kubetenancy-editor-edit"}
    await make_tenant(
        admin,
        "life-prune",
        "life-q1",
        namespaces={"withTenantPrefix": ["a"]},
        accessControl={"owners": members["owners"]},
    )

    async def pruned() -> bool:
        bindings = await admin.list(RBAC, "RoleBinding", namespace="life-prune-a")
        return {b["metadata"]["name"] for b in bindings} == {"kubetenancy-owner-admin"}

    await eventually(pruned)


async def test_unchanged_tenant_costs_no_write(operator: str, admin: Kube, kubectl: Kubectl) -> None:
    await make_quota(admin, "life-q2", {"pods": "5"})
    await make_tenant(admin, "life-steady", "life-q2", namespaces={"withTenantPrefix": ["a", "b"]})
    before_checks = metric(operator, "kubetenancy_tenant_reconciles_total", outcome="unchanged")
    # An annotation changes no spec: the operator looks again and must find nothing to write.
    annotated = kubectl.ok(
        "annotate", "tenant", "life-steady", "touched=yes", "-o", "jsonpath={.metadata.resourceVersion}"
    )
    before = await versions(admin, "life-steady", ["life-steady-a", "life-steady-b"])

    async def rechecked() -> bool:
        return metric(operator, "kubetenancy_tenant_reconciles_total", outcome="unchanged") > before_checks

    await eventually(rechecked)
    # Counted on the tenant's own objects: other tenants' work may go on meanwhile.
    assert await versions(admin, "life-steady", ["life-steady-a", "life-steady-b"]) == before
    assert before["Tenant", "life-steady"] == annotated


async def versions(admin: Kube, tenant: str, namespaces: list[str]) -> dict[tuple[str, str], str]:
    """resourceVersion of the tenant, its namespaces and what kubetenancy manages in them."""
    found: dict[tuple[str, str], Any] = {("Tenant", tenant): await admin.get(TENANT_API, "Tenant", tenant)}
    for namespace in namespaces:
        found["Namespace", namespace] = await admin.get("v1", "Namespace", namespace)
        for api_version, kind in MANAGED_KINDS:
            for managed in await admin.list(api_version, kind, namespace=namespace):
                found[kind, f"{namespace}/{managed['metadata']['name']}"] = managed
    return {key: o["metadata"]["resourceVersion"] for key, o in found.items() if o is not None}


async def test_deleted_tenant_keeps_its_namespaces_and_data(operator: str, admin: Kube) -> None:
    await make_quota(admin, "life-q3", {"pods": "5"})
    await make_tenant(
        admin,
        "life-keep",
        "life-q3",
        namespaces={"withTenantPrefix": ["a"]},
        accessControl={"owners": {"users": ["alice"]}},
    )
    await admin.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "data", "namespace": "life-keep-a"}}
    )
    await admin.delete(TENANT_API, "Tenant", "life-keep")

    async def cleaned() -> bool:
        left = await admin.list(RBAC, "RoleBinding", namespace="life-keep-a")
        left += await admin.list("v1", "ResourceQuota", namespace="life-keep-a")
        return not left

    # The garbage collector picks up a new CRD on its 30 s discovery resync, so allow for two.
    await eventually(cleaned, within=120)
    namespace = await admin.get("v1", "Namespace", "life-keep-a")
    assert namespace is not None
    assert namespace["status"]["phase"] == "Active"
    assert await admin.get("v1", "ConfigMap", "data", "life-keep-a") is not None


async def test_purge_deletes_namespaces_when_asked(operator: str, admin: Kube) -> None:
    await make_quota(admin, "life-q4", {"pods": "5"})
    await make_tenant(
        admin, "life-purge", "life-q4", namespaces={"withTenantPrefix": ["a"], "onDeletePurgeNamespaces": True}
    )
    await admin.delete(TENANT_API, "Tenant", "life-purge")

    async def purged() -> bool:
        return await admin.get("v1", "Namespace", "life-purge-a") is None

    await eventually(purged)


async def test_deleted_role_binding_is_restored(operator: str, admin: Kube) -> None:
    await make_quota(admin, "life-q5", {"pods": "5"})
    await make_tenant(
        admin,
        "life-drift",
        "life-q5",
        namespaces={"withTenantPrefix": ["a"]},
        accessControl={"owners": {"users": ["alice"]}},
    )
    await admin.delete(RBAC, "RoleBinding", "kubetenancy-owner-admin", "life-drift-a")

    async def restored() -> bool:
        return await admin.get(RBAC, "RoleBinding", "kubetenancy-owner-admin", "life-drift-a") is not None

    await eventually(restored)
