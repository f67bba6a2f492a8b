"""Kiosk AccountQuotas hold across all spaces of an account under parallel requests (the same tenant-wide
quota as MTO's), the lowest of several wins, and the status shows the usage as Kiosk does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from kubetenancy.k8s import ApiError, Kube
from tests.support.kiosk import account_namespace, make_account, make_account_quota
from tests.support.tenants import pod
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
CONFIG = "config.kiosk.sh/v1alpha1"


async def test_parallel_pods_in_two_spaces_stop_at_the_lowest_account_quota(
    operator: str, admin: Kube, user_client: Callable[[str], Kube]
) -> None:
    await make_account(admin, "quota-acc", "bob")
    spaces = ["quota-acc-a", "quota-acc-b"]
    for name in spaces:
        await account_namespace(admin, name, "quota-acc")
    await make_account_quota(admin, "quota-acc-generous", "quota-acc", {"pods": "8"})
    await make_account_quota(admin, "quota-acc-tight", "quota-acc", {"pods": "3"})

    async def ready() -> bool:
        ok = True
        for name in spaces:
            quota = await admin.get("v1", "ResourceQuota", "kubetenancy-tenant-quota", name)
            account = await admin.get("v1", "ServiceAccount", "default", name)
            ok = ok and bool(quota and quota["spec"]["hard"] == {"pods": "3"} and account)
        return ok

    await eventually(ready)
    bob = user_client("bob")

    async def create(i: int) -> str:
        try:
            await bob.create(pod(f"p{i}", spaces[i % 2]))
        except ApiError as error:
            return error.status.message
        return "created"

    outcomes = await asyncio.gather(*(create(i) for i in range(12)))
    assert outcomes.count("created") == 3
    assert any("exceeded tenant quota: quota-acc-generous, quota-acc-tight" in o for o in outcomes), outcomes

    async def reported() -> bool:
        status = (await admin.get(CONFIG, "AccountQuota", "quota-acc-tight") or {}).get("status") or {}
        return status.get("total") == {"hard": {"pods": "3"}, "used": {"pods": "3"}}

    await eventually(reported)
    status = (await admin.get(CONFIG, "AccountQuota", "quota-acc-tight") or {})["status"]
    assert sorted(n["namespace"] for n in status["namespaces"]) == spaces
    assert sum(int(n["status"]["used"]["pods"]) for n in status["namespaces"]) == 3
