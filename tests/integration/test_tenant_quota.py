"""The tenant-wide quota holds: the sum over a tenant's namespaces never exceeds the Quota, in parallel too."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from kubetenancy.k8s import ApiError, Kube
from tests.support.tenants import make_quota, make_tenant, pod
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_fifty_parallel_pods_against_room_for_ten(
    operator: str, admin: Kube, user_client: Callable[[str], Kube]
) -> None:
    await make_quota(admin, "quota-ten-pods", {"pods": "10"})
    namespaces = ["a", "b", "c"]
    await make_tenant(
        admin,
        "parallel",
        "quota-ten-pods",
        namespaces={"withTenantPrefix": namespaces},
        accessControl={"owners": {"users": ["bob"]}},
    )
    bob = user_client("bob")

    async def create(i: int) -> str:
        try:
            await bob.create(pod(f"p{i}", f"parallel-{namespaces[i % 3]}"))
        except ApiError as error:
            return error.status.message
        return "created"

    outcomes = await asyncio.gather(*(create(i) for i in range(50)))
    assert outcomes.count("created") == 10
    refusals = [o for o in outcomes if o != "created"]
    assert all("exceeded tenant quota: quota-ten-pods" in o or "exceeded quota" in o for o in refusals), refusals
    pods = [p for ns in namespaces for p in await admin.list("v1", "Pod", namespace=f"parallel-{ns}")]
    assert len(pods) == 10


async def test_each_namespace_alone_could_not_tell(
    operator: str, admin: Kube, user_client: Callable[[str], Kube]
) -> None:
    """Two namespaces, two pods allowed in all: the third pod is refused in a namespace that has only one."""
    await make_quota(admin, "quota-two-pods", {"pods": "2"})
    await make_tenant(
        admin,
        "pair",
        "quota-two-pods",
        namespaces={"withTenantPrefix": ["x", "y"]},
        accessControl={"owners": {"users": ["bob"]}},
    )
    bob = user_client("bob")
    await bob.create(pod("one", "pair-x"))
    await bob.create(pod("two", "pair-x"))
    with pytest.raises(ApiError) as raised:
        await bob.create(pod("three", "pair-y"))
    assert raised.value.status.code == 403
    assert "exceeded tenant quota: quota-two-pods" in raised.value.status.message
    assert "requested: pods=1, used: pods=2, limited: pods=2" in raised.value.status.message
    # Deleting frees room for the other namespace once the quota controller has recounted.
    await bob.delete("v1", "Pod", "one", "pair-x")

    async def recounted() -> bool:
        quota = await admin.get("v1", "ResourceQuota", "kubetenancy-tenant-quota", "pair-x")
        return bool(quota and quota["status"]["used"]["pods"] == "1")

    await eventually(recounted)
    created = await bob.create(pod("three", "pair-y"))
    assert created["metadata"]["name"] == "three"
