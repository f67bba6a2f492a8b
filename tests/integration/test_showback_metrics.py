"""Showback's data: Prometheus scrapes the node's kubelet (usage, capacity) and the operator's per-tenant
metrics (requests, limits, quota), as `dev up` runs it."""

from __future__ import annotations

import pytest

from kubetenancy.k8s import Kube
from kubetenancy.localcluster.node import Node
from kubetenancy.quantity import parse
from tests.support.prometheus_api import query, series
from tests.support.tenants import make_quota, make_tenant
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def value(sample: dict[str, object]) -> float:
    point = sample["value"]
    assert isinstance(point, list)
    return float(point[1])


async def test_every_target_is_scraped(prometheus_url: str, node: Node) -> None:
    for job in ("kubelet", "cadvisor", "kubetenancy"):
        [up] = await series(prometheus_url, f'up{{job="{job}"}} == 1')
        assert up["metric"].get("node", node.name) == node.name
    [cores] = await series(prometheus_url, f'machine_cpu_cores{{job="cadvisor",node="{node.name}"}}')
    assert value(cores) >= 1


async def test_requests_limits_and_quota_per_tenant_beside_the_kubelets_usage(
    prometheus_url: str, admin: Kube, node: Node
) -> None:
    name = "showback-metrics"
    await make_quota(admin, name, {"requests.cpu": "2", "requests.memory": "1Gi"})
    tenant = await make_tenant(admin, name, name, namespaces={"withTenantPrefix": ["app"]})
    namespace = tenant["status"]["namespaces"][0]
    resources = {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}
    await admin.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": resources}]},
        }
    )

    async def running() -> bool:
        pod = await admin.get("v1", "Pod", "web", namespace) or {}
        return (pod.get("status") or {}).get("phase") == "Running"

    await eventually(running, 120)
    selector = f'namespace="{namespace}",pod="web",container="nginx"'
    for metric, kind in (
        ("kubetenancy_pod_container_resource_requests", "requests"),
        ("kubetenancy_pod_container_resource_limits", "limits"),
    ):
        found = await series(prometheus_url, f"{metric}{{{selector}}}")
        assert {s["metric"]["tenant"] for s in found} == {name}
        assert {s["metric"]["node"] for s in found} == {node.name}
        assert {s["metric"]["resource"]: value(s) for s in found} == {
            resource: float(parse(amount)) for resource, amount in resources[kind].items()
        }
    hard = await series(prometheus_url, f'kubetenancy_tenant_quota_hard{{tenant="{name}"}}')
    assert {s["metric"]["resource"]: value(s) for s in hard} == {"requests.cpu": 2.0, "requests.memory": 2.0**30}
    used = await series(prometheus_url, f'kubetenancy_tenant_quota_used{{tenant="{name}",resource="requests.cpu"}} > 0')
    assert [(s["metric"]["namespace"], value(s)) for s in used] == [(namespace, 0.25)]
    # The kubelet's own usage of the same container, which the cost queries join on these labels.
    await series(prometheus_url, f'container_cpu_usage_seconds_total{{job="kubelet",{selector}}}')
    await series(prometheus_url, f'container_memory_working_set_bytes{{job="kubelet",{selector}}}')

    await admin.delete("v1", "Pod", "web", namespace)

    async def gone() -> bool:
        return not query(prometheus_url, f"kubetenancy_pod_container_resource_requests{{{selector}}}")

    await eventually(gone, 90)
