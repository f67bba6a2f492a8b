"""Quantities, what an object uses, and the ledger that holds a tenant's quota across namespaces."""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from kubetenancy.admission import Request
from kubetenancy.admission.object_usage import usage_of
from kubetenancy.frontdoors.tenantoperator import quota_from_cr, tenant_from_cr
from kubetenancy.operator import quota_ledger
from kubetenancy.operator.quota_ledger import QuotaLedger
from kubetenancy.operator.tenancy_index import TenancyIndex
from kubetenancy.quantity import format_quantity, parse


def test_quantities() -> None:
    assert parse("500m") == Fraction(1, 2)
    assert parse("2Gi") == 2 * 1024**3
    assert parse("1e3") == 1000
    assert parse(10) == 10
    assert format_quantity(Fraction(3, 2)) == "1500m"
    assert format_quantity(Fraction(4)) == "4"


def test_pod_usage_counts_init_containers_like_kubernetes() -> None:
    pod = {
        "spec": {
            "initContainers": [{"resources": {"requests": {"cpu": "2"}}}],
            "containers": [
                {"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}},
                {"resources": {"requests": {"cpu": "500m"}}},
            ],
        }
    }
    usage = usage_of("Pod", "pods", "", pod)
    assert usage["pods"] == 1
    assert usage["count/pods"] == 1
    assert usage["requests.cpu"] == usage["cpu"] == 2
    assert usage["requests.memory"] == parse("1Gi")
    assert usage["limits.memory"] == parse("2Gi")


def test_pvc_and_service_usage() -> None:
    pvc = {"spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "5Gi"}}}}
    usage = usage_of("PersistentVolumeClaim", "persistentvolumeclaims", "", pvc)
    assert usage["fast.storageclass.storage.k8s.io/requests.storage"] == parse("5Gi")
    service = usage_of("Service", "services", "", {"spec": {"type": "LoadBalancer", "ports": [{}, {}]}})
    assert (service["services.loadbalancers"], service["services.nodeports"]) == (1, 2)
    assert usage_of("Deployment", "deployments", "apps", {})["count/deployments.apps"] == 1


def ledger_with_tenant(hard: dict[str, str], clock: Callable[[], float] = time.monotonic) -> QuotaLedger:
    index = TenancyIndex()
    quota = quota_from_cr("q", {"resourcequota": {"hard": hard}})
    tenant = tenant_from_cr("t", {"quota": "q", "namespaces": {"withTenantPrefix": ["a", "b"]}}, quota)
    index.put_tenant(tenant, "Tenant.tenantoperator.stakater.com")
    return QuotaLedger(index.view, clock)


def create_pod(namespace: str, **extra: Any) -> Request:
    obj = {"metadata": {"name": "p", "namespace": namespace}, "spec": {"containers": [{}]}}
    fields: dict[str, Any] = {
        "group": "",
        "name": "p",
        "namespace": namespace,
        "user": "u",
        "groups": (),
        "obj": obj,
        "resource": "pods",
    }
    fields.update(extra)
    return Request(operation="CREATE", kind="Pod", **fields)


def status_update(namespace: str, before: str, after: str, user: str = "system:apiserver") -> Request:
    def quota(pods: str) -> dict[str, Any]:
        return {"metadata": {"labels": {"kubetenancy.dev/tenant": "t"}}, "status": {"used": {"pods": pods}}}

    return Request(
        operation="UPDATE", kind="ResourceQuota", group="", name="x", namespace=namespace, user=user, groups=(),
        obj=quota(after), old=quota(before), subresource="status",
    )  # fmt: skip


async def test_reservations_hold_the_tenant_total_across_namespaces() -> None:
    ledger = ledger_with_tenant({"pods": "2"})
    assert (await ledger.reserve(create_pod("t-a"))).allowed
    assert (await ledger.reserve(create_pod("t-b"))).allowed
    third = await ledger.reserve(create_pod("t-a"))
    assert "requested: pods=1, used: pods=2, limited: pods=2" in third.message
    # A dry run is judged but reserves nothing.
    ledger = ledger_with_tenant({"pods": "1"})
    assert (await ledger.reserve(create_pod("t-a", dry_run=True))).allowed
    assert (await ledger.reserve(create_pod("t-a"))).allowed


async def test_settling_releases_reservations_and_backs_them_up() -> None:
    ledger = ledger_with_tenant({"pods": "2"})
    assert (await ledger.reserve(create_pod("t-a"))).allowed
    assert (await ledger.settle(status_update("t-a", "0", "1"))).allowed
    assert ledger.reserved["t"] == []
    assert (await ledger.settle(status_update("t-b", "0", "1"))).allowed
    refused = await ledger.settle(status_update("t-b", "1", "2"))
    assert "exceeded tenant quota: q" in refused.message
    # Recounts by the quota controller are recorded, never refused; decreases always pass.
    assert (await ledger.settle(status_update("t-b", "1", "3", user="system:serviceaccount:kube-system:rq"))).allowed
    assert (await ledger.settle(status_update("t-b", "3", "0"))).allowed


async def test_a_reservation_never_counted_holds_room_only_for_a_moment() -> None:
    """What a made-up review (or an object refused later in the chain) can hold: RESERVATION_SECONDS."""
    clock = [1000.0]
    ledger = ledger_with_tenant({"pods": "1"}, clock=lambda: clock[0])
    assert (await ledger.reserve(create_pod("t-a"))).allowed  # never counted by a status update
    assert not (await ledger.reserve(create_pod("t-b"))).allowed
    clock[0] += quota_ledger.RESERVATION_SECONDS
    assert (await ledger.reserve(create_pod("t-b"))).allowed


async def test_configmap_refusals_say_that_kube_root_ca_counts() -> None:
    ledger = ledger_with_tenant({"configmaps": "10", "pods": "1"})
    ledger.recorded["t"]["t-a"] = {"configmaps": Fraction(5)}
    ledger.recorded["t"]["t-b"] = {"configmaps": Fraction(5)}
    obj = {"metadata": {"name": "c", "namespace": "t-a"}, "data": {}}
    create = Request(
        operation="CREATE", kind="ConfigMap", group="", name="c", namespace="t-a", user="u", groups=(),
        obj=obj, resource="configmaps",
    )  # fmt: skip
    refused = await ledger.reserve(create)
    assert "used: configmaps=10" in refused.message
    assert "kube-root-ca.crt Kubernetes puts in each of the tenant's namespaces (2 of them" in refused.message
    # Other resources are not explained that way.
    ledger.recorded["t"]["t-a"] = {"pods": Fraction(1)}
    assert "kube-root-ca.crt" not in (await ledger.reserve(create_pod("t-a"))).message
