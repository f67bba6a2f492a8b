"""Showback's per-tenant metrics (from the operator's index) and the Prometheus configuration of the local plane."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from kubetenancy.frontdoors.tenantoperator import quota_from_cr, tenant_from_cr
from kubetenancy.localcluster import prometheus
from kubetenancy.operator.quota_ledger import QuotaLedger
from kubetenancy.operator.showback_metrics import ShowbackCollector, WorkloadIndex
from kubetenancy.operator.tenancy_index import TenancyIndex
from kubetenancy.quantity import parse


def pod(phase: str, *containers: tuple[str, dict[str, str], dict[str, str]]) -> dict[str, Any]:
    return {
        "spec": {
            "nodeName": "node-1",
            "initContainers": [{"name": "init", "resources": {"requests": {"cpu": "4"}}}],
            "containers": [{"name": n, "resources": {"requests": r, "limits": lim}} for n, r, lim in containers],
        },
        "status": {"phase": phase},
    }


def samples(collector: ShowbackCollector) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    registry = CollectorRegistry()
    registry.register(collector)
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def setup() -> tuple[WorkloadIndex, TenancyIndex, QuotaLedger, ShowbackCollector]:
    index = TenancyIndex()
    quota = quota_from_cr("small", {"resourcequota": {"hard": {"requests.cpu": "2", "requests.memory": "4Gi"}}})
    index.put_tenant(
        tenant_from_cr("logistics", {"quota": "small", "namespaces": {"withoutTenantPrefix": ["ship"]}}, quota),
        "Tenant",
    )
    workloads, ledger = WorkloadIndex(), QuotaLedger(index.view)
    return workloads, index, ledger, ShowbackCollector(workloads, index.view, ledger)


def test_running_containers_are_exported_with_their_tenant_in_base_units() -> None:
    workloads, _, _, collector = setup()
    workloads.pod_seen(
        "ship", "web", pod("Running", ("nginx", {"cpu": "250m", "memory": "64Mi"}, {"memory": "128Mi"})), deleted=False
    )
    workloads.pod_seen("kube-system", "dns", pod("Running", ("coredns", {"cpu": "100m"}, {})), deleted=False)
    workloads.pod_seen("ship", "waiting", pod("Pending", ("nginx", {"cpu": "1"}, {})), deleted=False)
    requests = samples(collector)["kubetenancy_pod_container_resource_requests"]
    common = {"namespace": "ship", "pod": "web", "container": "nginx", "node": "node-1", "tenant": "logistics"}
    assert requests == {
        tuple(sorted({**common, "resource": "cpu", "unit": "core"}.items())): 0.25,
        tuple(sorted({**common, "resource": "memory", "unit": "byte"}.items())): 64 * 2**20,
        tuple(sorted({**common, "namespace": "kube-system", "pod": "dns", "container": "coredns", "tenant": "",
                      "resource": "cpu", "unit": "core"}.items())): 0.1,
    }  # fmt: skip
    limits = samples(collector)["kubetenancy_pod_container_resource_limits"]
    assert list(limits.values()) == [128 * 2**20]


def test_a_pod_that_stops_running_or_is_deleted_is_no_longer_counted() -> None:
    workloads, _, _, collector = setup()
    running = pod("Running", ("nginx", {"cpu": "1"}, {}))
    workloads.pod_seen("ship", "a", running, deleted=False)
    workloads.pod_seen("ship", "b", running, deleted=False)
    workloads.pod_seen("ship", "a", pod("Succeeded", ("nginx", {"cpu": "1"}, {})), deleted=False)
    workloads.pod_seen("ship", "b", running, deleted=True)
    assert "kubetenancy_pod_container_resource_requests" not in samples(collector)


def test_a_namespace_is_counted_for_the_tenant_that_holds_it_at_scrape_time() -> None:
    workloads, index, _, collector = setup()
    workloads.pod_seen("ship", "web", pod("Running", ("nginx", {"cpu": "1"}, {})), deleted=False)
    index.forget_tenant("logistics")
    [labels] = samples(collector)["kubetenancy_pod_container_resource_requests"]
    assert dict(labels)["tenant"] == ""


def test_claims_and_tenant_quota() -> None:
    workloads, _, ledger, collector = setup()
    claim = {"spec": {"storageClassName": "gp3", "resources": {"requests": {"storage": "10Gi"}}}}
    workloads.claim_seen("ship", "data", claim, deleted=False)
    ledger.recorded["logistics"]["ship"] = {"requests.cpu": parse("500m")}
    found = samples(collector)
    [(labels, size)] = found["kubetenancy_persistentvolumeclaim_resource_requests_storage_bytes"].items()
    assert dict(labels) == {
        "tenant": "logistics",
        "namespace": "ship",
        "persistentvolumeclaim": "data",
        "storageclass": "gp3",
    }
    assert size == 10 * 2**30
    hard = {dict(k)["resource"]: v for k, v in found["kubetenancy_tenant_quota_hard"].items()}
    assert hard == {"requests.cpu": 2, "requests.memory": 4 * 2**30}
    [(labels, used)] = found["kubetenancy_tenant_quota_used"].items()
    assert (dict(labels)["tenant"], dict(labels)["namespace"], used) == ("logistics", "ship", 0.5)
    workloads.claim_seen("ship", "data", claim, deleted=True)
    assert "kubetenancy_persistentvolumeclaim_resource_requests_storage_bytes" not in samples(collector)


def test_prometheus_scrapes_every_node_twice_and_kubetenancy() -> None:
    targets = prometheus.Targets((("cluster-1-node", "10.199.3.2"),), ("127.0.0.1:8080",))
    config = prometheus.config(targets, Path("/pki"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert {name: job.get("metrics_path", "/metrics") for name, job in jobs.items()} == {
        "kubelet": "/metrics/resource",
        "cadvisor": "/metrics/cadvisor",
        "kubetenancy": "/metrics",
    }
    assert jobs["kubelet"]["static_configs"] == [
        {"targets": ["10.199.3.2:10250"], "labels": {"node": "cluster-1-node"}}
    ]
    assert jobs["cadvisor"]["tls_config"]["cert_file"] == "/pki/prometheus.crt"
    assert jobs["kubetenancy"]["static_configs"] == [{"targets": ["127.0.0.1:8080"]}]
    assert {job["job_name"] for job in prometheus.config(prometheus.Targets(), Path("/pki"))["scrape_configs"]} == set()
