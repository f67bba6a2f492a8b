"""Showback's metrics from the operator: what each container requests and limits, what each
PersistentVolumeClaim asks for, and each tenant's quota (hard and used), labelled by tenant and namespace.

Named and shaped after kube-state-metrics' (`kube_pod_container_resource_requests` …, `resource` and `unit`
labels, base units: cores, bytes), with `tenant` added, so a query written for one reads the other. A scrape
costs no API call: pods and claims come from one watch each (the index below, written by their event
handlers only), the tenant of a namespace from the tenancy view at scrape time (so a namespace that moves
is counted for its new tenant at once), quota usage from the quota ledger's record of the ResourceQuota
statuses. Pods count while they run (`status.phase` Running), as OpenCost counts them; init containers
are left out. Bookkeeping, its event handlers and a prometheus-client collector: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import kopf
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kubetenancy.admission.view import TenancyView
from kubetenancy.operator.quota_ledger import QuotaLedger
from kubetenancy.quantity import parse

Key = tuple[str, str]
"""(namespace, name)"""


@dataclass(frozen=True)
class Container:
    name: str
    requests: Mapping[str, Fraction]
    limits: Mapping[str, Fraction]


@dataclass(frozen=True)
class Claim:
    storage_class: str
    requested: Fraction
    """`spec.resources.requests.storage`, in bytes."""


def _amounts(resources: Mapping[str, Any] | None) -> dict[str, Fraction]:
    amounts = {}
    for resource, value in (resources or {}).items():
        try:
            amounts[resource] = parse(value)
        except ValueError:
            continue  # the API server validates quantities; a stranger is not worth a crash
    return amounts


def containers_of(pod: Mapping[str, Any]) -> tuple[Container, ...]:
    """The containers of a running pod with their requests and limits; () for a pod that does not run."""
    if (pod.get("status") or {}).get("phase") != "Running":
        return ()
    return tuple(
        Container(
            c["name"], _amounts(c.get("resources", {}).get("requests")), _amounts(c.get("resources", {}).get("limits"))
        )
        for c in (pod.get("spec") or {}).get("containers", [])
    )


def claim_of(claim: Mapping[str, Any]) -> Claim | None:
    spec = claim.get("spec") or {}
    requested = _amounts((spec.get("resources") or {}).get("requests")).get("storage")
    return None if requested is None else Claim(spec.get("storageClassName") or "", requested)


class WorkloadIndex:
    """Running pods' containers and claims' sizes, by (namespace, name); written by their event handlers."""

    def __init__(self) -> None:
        self.pods: dict[Key, tuple[str, tuple[Container, ...]]] = {}
        """(node, containers) of every running pod."""
        self.claims: dict[Key, Claim] = {}

    def pod_seen(self, namespace: str, name: str, pod: Mapping[str, Any], *, deleted: bool) -> None:
        containers = () if deleted else containers_of(pod)
        if containers:
            self.pods[namespace, name] = ((pod.get("spec") or {}).get("nodeName") or "", containers)
        else:
            self.pods.pop((namespace, name), None)

    def claim_seen(self, namespace: str, name: str, claim: Mapping[str, Any], *, deleted: bool) -> None:
        seen = None if deleted else claim_of(claim)
        if seen is None:
            self.claims.pop((namespace, name), None)
        else:
            self.claims[namespace, name] = seen


UNITS = {"cpu": "core", "memory": "byte", "ephemeral-storage": "byte", "storage": "byte"}


def _unit(resource: str) -> str:
    return UNITS.get(resource.removeprefix("requests.").removeprefix("limits."), "integer")


class ShowbackCollector(Collector):
    """Builds the metrics from the index, the view and the ledger at each scrape."""

    def __init__(self, workloads: WorkloadIndex, view: TenancyView, ledger: QuotaLedger) -> None:
        self.workloads, self.view, self.ledger = workloads, view, ledger

    def _tenant(self, namespace: str) -> str:
        tenant = self.view.tenant_of_namespace(namespace)
        return tenant.name if tenant else ""

    def collect(self) -> Iterator[Metric]:
        owners = GaugeMetricFamily(
            "kubetenancy_namespace_tenant",
            "1 for each tenant namespace, labelled with its tenant",
            labels=["namespace", "tenant"],
        )
        for namespace, tenant in sorted(self.view.namespace_claims().items()):
            owners.add_metric([namespace, tenant], 1)
        yield owners
        yield from self._containers()
        yield self._claims()
        yield from self._quotas()

    def _containers(self) -> tuple[Metric, Metric]:
        labels = ["tenant", "namespace", "pod", "container", "node", "resource", "unit"]
        requests = GaugeMetricFamily(
            "kubetenancy_pod_container_resource_requests", "Requests of running containers", labels=labels
        )
        limits = GaugeMetricFamily(
            "kubetenancy_pod_container_resource_limits", "Limits of running containers", labels=labels
        )
        for (namespace, pod), (node, containers) in self.workloads.pods.items():
            tenant = self._tenant(namespace)
            for container in containers:
                for family, amounts in ((requests, container.requests), (limits, container.limits)):
                    for resource, amount in amounts.items():
                        values = [tenant, namespace, pod, container.name, node, resource, _unit(resource)]
                        family.add_metric(values, float(amount))
        return requests, limits

    def _claims(self) -> Metric:
        claims = GaugeMetricFamily(
            "kubetenancy_persistentvolumeclaim_resource_requests_storage_bytes",
            "Storage requested by PersistentVolumeClaims",
            labels=["tenant", "namespace", "persistentvolumeclaim", "storageclass"],
        )
        for (namespace, name), claim in self.workloads.claims.items():
            claims.add_metric([self._tenant(namespace), namespace, name, claim.storage_class], float(claim.requested))
        return claims

    def _quotas(self) -> tuple[Metric, Metric]:
        hard = GaugeMetricFamily(
            "kubetenancy_tenant_quota_hard", "Tenant-wide quota limits", labels=["tenant", "quota", "resource", "unit"]
        )
        for tenant in self.view.tenants.values():
            if tenant.quota is not None:
                for resource, amount in _amounts(tenant.quota.hard).items():
                    hard.add_metric([tenant.name, tenant.quota.name, resource, _unit(resource)], float(amount))
        used = GaugeMetricFamily(
            "kubetenancy_tenant_quota_used",
            "What each tenant namespace uses of the resources its tenant's quota limits",
            labels=["tenant", "namespace", "resource", "unit"],
        )
        for tenant_name, namespaces in self.ledger.recorded.items():
            for namespace, usage in namespaces.items():
                for resource, amount in usage.items():
                    used.add_metric([tenant_name, namespace, resource, _unit(resource)], float(amount))
        return hard, used


def register_showback_handlers(registry: kopf.OperatorRegistry, workloads: WorkloadIndex) -> None:
    """Pod and claim events update the index (one watch each; kopf lists them all at start)."""

    @kopf.on.event("v1", "pods", registry=registry)
    async def pod_changed(**kwargs: Any) -> None:
        deleted = kwargs["type"] == "DELETED"
        workloads.pod_seen(kwargs["namespace"], kwargs["name"], kwargs["body"], deleted=deleted)

    @kopf.on.event("v1", "persistentvolumeclaims", registry=registry)
    async def claim_changed(**kwargs: Any) -> None:
        deleted = kwargs["type"] == "DELETED"
        workloads.claim_seen(kwargs["namespace"], kwargs["name"], kwargs["body"], deleted=deleted)
