"""What tenants cost, from real pods on the node: requests x price x time for pods that use less than they
request, usage x price for one that burns more CPU than it requests; the parts add up to the nodes' cost;
a member reads only their tenant's cost (through the API server and `kubectl tenancy showback`).

Tolerances (stated, and why):
- pods that use less than they request: 2 % (the figure is exact up to float rounding: the window is a whole
  number of resolution steps, and a request is constant while the pod runs);
- the burner: 15 % against the kubelet's own CPU counter (its stats summary, read at the window's edges):
  Prometheus samples that counter every 15 s and takes its rate over 30 s, while the burner shares two cores
  with everything else on the machine;
- the total against the machine's cores and memory: 1 %.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kubetenancy.frontdoors.components import price_list
from kubetenancy.frontdoors.table import MTO_POLICY
from kubetenancy.k8s import Kube
from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.node import Node
from kubetenancy.quantity import parse
from tests.support.kubectl import Kubectl
from tests.support.prometheus_api import series
from tests.support.tenants import make_quota, make_tenant
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

WINDOW_SECONDS = 120
RESOLUTION = "15s"
WARM_UP_SECONDS = 60
"""Before the window: every pod's request and usage series exist and the burner's rate has two samples."""
COSTS = "/apis/showback.kubetenancy.dev/v1alpha1/tenantcosts"
QUERY = f"?window={WINDOW_SECONDS}s&resolution={RESOLUTION}"
Spec = tuple[str, dict[str, str], dict[str, str], list[str] | None]
PODS: dict[str, list[Spec]] = {
    # tenant: [(pod, requests, limits, command)]
    "sb-ship": [("steady", {"cpu": "100m", "memory": "128Mi"}, {}, None)],
    "sb-shop": [
        ("steady", {"cpu": "200m", "memory": "256Mi"}, {}, None),
        ("burner", {"cpu": "50m", "memory": "32Mi"}, {"cpu": "300m"}, ["bash", "-c", "while :; do :; done"]),
    ],
}
OWNERS = {"sb-ship": "falcon@nordmart.com", "sb-shop": "bear@nordmart.com"}


def pod(
    name: str, namespace: str, requests: dict[str, str], limits: dict[str, str], command: list[str] | None
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "main",
        "image": "nginx",
        "resources": {"requests": requests, "limits": limits},
    }
    if command:
        container["command"] = command
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [container]},
    }


def summary(kubectl: Kubectl, node: Node) -> dict[tuple[str, str], dict[str, Any]]:
    """The kubelet's own stats of every container, by (namespace, pod)."""
    stats = json.loads(kubectl.ok("get", "--raw", f"/api/v1/nodes/{node.name}/proxy/stats/summary"))
    return {
        (p["podRef"]["namespace"], p["podRef"]["name"]): p["containers"][0] for p in stats["pods"] if p["containers"]
    }


def cores_used(before: dict[str, Any], after: dict[str, Any]) -> float:
    """The container's average CPU use between two summaries, in cores, from the kubelet's counter."""
    seconds = (
        datetime.fromisoformat(after["cpu"]["time"]) - datetime.fromisoformat(before["cpu"]["time"])
    ).total_seconds()
    return float(after["cpu"]["usageCoreNanoSeconds"] - before["cpu"]["usageCoreNanoSeconds"]) / 1e9 / seconds


def machine() -> tuple[int, float]:
    """Cores and GiB of memory of this machine (the node is this machine)."""
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return os.cpu_count() or 0, float(parse(meminfo["MemTotal"].strip().replace(" kB", "Ki")) / 2**30)


def by_name(listing: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["metadata"]["name"]: item for item in listing["items"]}


def showback_cli(cluster: Cluster, user: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "kubetenancy", "showback", f"--kubeconfig={cluster.kubeconfig(user)}", *args]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


async def test_tenant_costs_follow_requests_usage_and_prices(
    showback_api: str, admin: Kube, kubectl: Kubectl, node: Node, cluster: Cluster
) -> None:
    await make_quota(admin, "sb-quota", {"requests.cpu": "2", "requests.memory": "2Gi"})
    namespaces = {}
    for tenant, pods in PODS.items():
        created = await make_tenant(
            admin, tenant, "sb-quota", namespaces={"withTenantPrefix": ["app"]},
            accessControl={"owners": {"users": [OWNERS[tenant]]}},
        )  # fmt: skip
        namespaces[tenant] = created["status"]["namespaces"][0]
        for name, requests, limits, command in pods:
            await admin.apply(pod(name, namespaces[tenant], requests, limits, command))
    for tenant, pods in PODS.items():
        for name, *_ in pods:
            kubectl.ok("wait", "--for=condition=Ready", f"pod/{name}", "-n", namespaces[tenant], "--timeout=120s")
    shop = namespaces["sb-shop"]
    await series(showback_api, f'container_cpu_usage_seconds_total{{job="kubelet",namespace="{shop}",pod="burner"}}')
    await asyncio.sleep(WARM_UP_SECONDS)

    before = summary(kubectl, node)
    await asyncio.sleep(WINDOW_SECONDS)
    everything = by_name(json.loads(kubectl.ok("get", "--raw", COSTS + QUERY)))
    after = summary(kubectl, node)
    config = await admin.get(
        MTO_POLICY.served.api_version, MTO_POLICY.served.kind, MTO_POLICY.object_name, "multi-tenant-operator"
    )
    prices = price_list((config or {}).get("spec"))
    hours = WINDOW_SECONDS / 3600

    # Pods that use less than they request cost their requests.
    for tenant, pods in PODS.items():
        for name, requests, *_ in pods:
            assert after[namespaces[tenant], name]["memory"]["workingSetBytes"] < parse(requests["memory"])
    ship = everything["sb-ship"]
    assert ship["cost"]["cpu"] == pytest.approx(0.1 * prices.cpu * hours, rel=0.02)
    assert ship["cost"]["ram"] == pytest.approx(128 / 1024 * prices.ram * hours, rel=0.02)
    assert [ns["name"] for ns in ship["namespaces"]] == [namespaces["sb-ship"]]
    # The burner costs what it used (more than its request), the steady pod beside it its request.
    burned = cores_used(before[shop, "burner"], after[shop, "burner"])
    assert burned > 1.5 * 0.05
    assert everything["sb-shop"]["cost"]["cpu"] == pytest.approx((0.2 + burned) * prices.cpu * hours, rel=0.15)
    assert everything["sb-shop"]["cost"]["ram"] == pytest.approx((256 + 32) / 1024 * prices.ram * hours, rel=0.02)

    # The parts (tenants, unattributed, idle) add up to what the node costs: this machine's cores and memory.
    cores, gib = machine()
    total = sum(item["cost"]["total"] for item in everything.values())
    assert total == pytest.approx((cores * prices.cpu + gib * prices.ram) * hours, rel=0.01)
    assert {"(unattributed)", "(idle)"} <= set(everything)
    for item in everything.values():
        assert item["cost"]["total"] == pytest.approx(sum(item["cost"][k] for k in ("cpu", "ram", "gpu", "storage")))

    # A member reads their tenant's cost and no one else's.
    code, falcon = kubectl("get", "--raw", COSTS + QUERY, user="falcon@nordmart.com")
    assert code == 0, falcon
    seen = by_name(json.loads(falcon))
    assert "sb-ship" in seen
    assert not {"sb-shop", "(unattributed)", "(idle)"} & set(seen)
    code, refused = kubectl("get", "--raw", f"{COSTS}/sb-shop{QUERY}", user="falcon@nordmart.com")
    assert code != 0
    assert "Forbidden" in refused
    denied = showback_cli(cluster, "falcon@nordmart.com", "--tenant", "sb-shop", "--window", f"{WINDOW_SECONDS}s")
    assert denied.returncode == 1
    assert 'Error from server (Forbidden): tenantcosts.showback.kubetenancy.dev "sb-shop" is forbidden' in denied.stderr
    mine = showback_cli(cluster, "falcon@nordmart.com", "--tenant", "sb-ship", "-o", "csv", "--window", "10m")
    assert mine.returncode == 0, mine.stderr
    rows = list(csv.DictReader(io.StringIO(mine.stdout)))
    assert [(r["tenant"], r["namespace"]) for r in rows] == [("sb-ship", namespaces["sb-ship"])]
    assert float(rows[0]["cpu_cost"]) > 0

    for tenant, pods in PODS.items():
        for name, *_ in pods:
            await admin.delete("v1", "Pod", name, namespaces[tenant])

    async def stopped() -> bool:
        return await admin.get("v1", "Pod", "burner", shop) is None

    await eventually(stopped, 60)
