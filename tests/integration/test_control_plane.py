"""The local control plane behaves like a real cluster: RBAC, quotas, namespaces, garbage collection."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.controlplane import ControlPlane
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_token_user_without_bindings_is_forbidden(user_client: Callable[[str], Kube]) -> None:
    with pytest.raises(ApiError) as raised:
        await user_client("alice").list("v1", "Service", namespace="default")
    assert raised.value.status.code == 403
    assert raised.value.status.message == (
        'services is forbidden: User "alice" cannot list resource "services" in API group "" in the namespace "default"'
    )


async def test_impersonated_user_gets_the_same_answer(impersonate: Callable[..., Kube]) -> None:
    with pytest.raises(ApiError) as raised:
        await impersonate("falcon@nordmart.com", "sso-devteam").list("v1", "Service", namespace="default")
    assert raised.value.status.message == (
        'services is forbidden: User "falcon@nordmart.com" cannot list resource "services" in API group "" '
        'in the namespace "default"'
    )


async def test_admin_is_a_cluster_admin(admin: Kube) -> None:
    names = {ns["metadata"]["name"] for ns in await admin.list("v1", "Namespace")}
    assert {"default", "kube-system", "kube-public"} <= names


async def test_resource_quota_gets_usage_and_rejects_objects_over_it(admin: Kube, namespace: str) -> None:
    # kube-root-ca.crt uses one of the two configmaps the quota allows; let it exist before the quota is
    # counted, or the count misses it until the controller's next full resync.
    async def root_ca_published() -> bool:
        return await admin.get("v1", "ConfigMap", "kube-root-ca.crt", namespace) is not None

    await eventually(root_ca_published)
    await admin.apply(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "two-configmaps", "namespace": namespace},
            "spec": {"hard": {"configmaps": "2"}},
        }
    )

    async def used_is_counted() -> bool:
        quota = await admin.get("v1", "ResourceQuota", "two-configmaps", namespace)
        return bool(quota and quota.get("status", {}).get("used", {}).get("configmaps") == "1")

    await eventually(used_is_counted)
    await admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first", "namespace": namespace}})
    with pytest.raises(ApiError) as raised:
        await admin.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "second", "namespace": namespace}}
        )
    assert raised.value.status.code == 403
    assert "exceeded quota: two-configmaps" in raised.value.status.message
    assert "limited: configmaps=2" in raised.value.status.message


async def test_deleted_namespace_disappears(admin: Kube) -> None:
    name = "t-namespace-deletion"
    await admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    await admin.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "data", "namespace": name}})
    await admin.delete("v1", "Namespace", name)

    async def gone() -> bool:
        return await admin.get("v1", "Namespace", name) is None

    await eventually(gone)


async def test_garbage_collector_removes_dependents(admin: Kube, namespace: str) -> None:
    owner = await admin.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner", "namespace": namespace}}
    )
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    await admin.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "dependent", "namespace": namespace, "ownerReferences": [reference]},
        }
    )
    await admin.delete("v1", "ConfigMap", "owner", namespace)

    async def collected() -> bool:
        return await admin.get("v1", "ConfigMap", "dependent", namespace) is None

    await eventually(collected)


async def test_clusters_on_one_etcd_do_not_see_each_other(control_plane: ControlPlane) -> None:
    first, second = control_plane.clusters[:2]
    async with Kube(first.kubeconfig()) as one, Kube(second.kubeconfig()) as two:
        await one.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "only-in-cluster-1"}})
        await two.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "only-in-cluster-2"}})
        assert await two.get("v1", "Namespace", "only-in-cluster-1") is None
        assert await one.get("v1", "Namespace", "only-in-cluster-2") is None
        assert await one.get("v1", "Namespace", "only-in-cluster-1") is not None
