"""What every benchmark needs: a fresh local control plane (optionally with the operator), tenants, and
the operator's own metrics. Nothing here measures; the benchmark modules do.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.metrics import metric
from tests.support.waiting import eventually

from kubetenancy.k8s import Kube
from kubetenancy.localcluster.companions import start_apiserver, start_operator
from kubetenancy.localcluster.controlplane import Cluster, ControlPlane
from kubetenancy.localcluster.gobuild import ensure_binaries
from kubetenancy.localcluster.processes import Process, free_port

TENANT_API = "tenantoperator.stakater.com/v1beta3"
QUOTA_API = "tenantoperator.stakater.com/v1beta1"
WRITE_VERBS = ("apply", "create", "replace", "patch-status", "delete")


@dataclass
class Setup:
    cluster: Cluster
    workdir: Path
    operator: Process | None = None
    operator_url: str = ""
    webhook_port: int = field(default_factory=free_port)
    """Fixed across restarts, as a Service's port is in a real cluster."""
    apiserver: Process | None = None

    def restart_operator(self) -> None:
        if self.operator is not None:
            self.operator.stop()
        self.operator, self.operator_url = start_operator(
            self.cluster, self.workdir, self.workdir / "certs", webhook_port=self.webhook_port
        )

    def metric(self, name: str, **labels: str) -> float:
        return metric(self.operator_url, name, **labels)

    def api_requests(self, *verbs: str) -> float:
        return sum(metric(self.operator_url, "kubetenancy_api_requests_total", verb=v) for v in verbs)

    def reconciles(self, outcome: str) -> float:
        return metric(self.operator_url, "kubetenancy_tenant_reconciles_total", outcome=outcome)

    def operator_rss_mb(self) -> float:
        assert self.operator is not None
        return rss_mb(self.operator)


def rss_mb(process: Process) -> float:
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def cluster(with_operator: bool, *, with_apiserver: bool = False) -> Iterator[Setup]:
    with tempfile.TemporaryDirectory(prefix="kubetenancy-bench-") as directory:
        plane = ControlPlane(Path(directory) / "plane")
        plane.start(ensure_binaries())
        setup = Setup(plane.cluster(), Path(directory))
        try:
            if with_operator:
                setup.restart_operator()
            if with_apiserver:
                setup.apiserver = start_apiserver(setup.cluster, setup.workdir, setup.workdir / "apiserver-certs")
            yield setup
        finally:
            for process in (setup.apiserver, setup.operator):
                if process is not None:
                    process.stop()
            plane.stop()


def quota(name: str, hard: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": QUOTA_API,
        "kind": "Quota",
        "metadata": {"name": name},
        "spec": {"resourcequota": {"hard": hard}},
    }


def tenant(name: str, quota_name: str) -> dict[str, Any]:
    """The benchmark tenant: two namespaces, a Quota, owners, editors and viewers."""
    return {
        "apiVersion": TENANT_API,
        "kind": "Tenant",
        "metadata": {"name": name},
        "spec": {
            "quota": quota_name,
            "namespaces": {"withTenantPrefix": ["dev", "build"]},
            "accessControl": {
                "owners": {"users": [f"{name}-owner"]},
                "editors": {"groups": [f"{name}-devs"]},
                "viewers": {"users": [f"{name}-viewer"]},
            },
        },
    }


async def apply_all(kube: Kube, objects: list[dict[str, Any]], concurrency: int) -> None:
    limit = asyncio.Semaphore(concurrency)

    async def one(obj: dict[str, Any]) -> None:
        async with limit:
            await kube.apply(obj)

    await asyncio.gather(*(one(o) for o in objects))


async def wait_ready(kube: Kube, names: list[str], within: float) -> None:
    pending = set(names)

    async def all_ready() -> bool:
        for item in await kube.list(TENANT_API, "Tenant"):
            conditions = (item.get("status") or {}).get("conditions", [])
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                pending.discard(item["metadata"]["name"])
        return not pending

    await eventually(all_ready, within)


async def wait_for_service_accounts(kube: Kube, namespaces: list[str]) -> None:
    """Pods need each namespace's default ServiceAccount, which the controller manager adds."""
    for ns in namespaces:

        async def present(ns: str = ns) -> bool:
            return await kube.get("v1", "ServiceAccount", "default", ns) is not None

        await eventually(present)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "min": ordered[0],
        "max": ordered[-1],
    }
