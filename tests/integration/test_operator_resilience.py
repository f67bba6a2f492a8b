"""An operator that was ready once outlives a failure of its kopf core: here discovery of an API group it
watches keeps answering 503 (an aggregated APIService whose server is gone) and kopf gives up on it."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest

from kubetenancy.api.capa import INFRASTRUCTURE_GROUP
from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.companions import start_operator
from kubetenancy.localcluster.controlplane import ControlPlane
from tests.support.metrics import metric
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

QUOTA_API = "tenantoperator.stakater.com/v1beta1"
# A version of the CAPA group (which the operator watches) served by a Service that does not exist.
BROKEN_VERSION = {
    "apiVersion": "apiregistration.k8s.io/v1",
    "kind": "APIService",
    "metadata": {"name": f"v1alpha1.{INFRASTRUCTURE_GROUP}"},
    "spec": {
        "group": INFRASTRUCTURE_GROUP,
        "version": "v1alpha1",
        "groupPriorityMinimum": 1000,
        "versionPriority": 1,
        "insecureSkipTLSVerify": True,
        "service": {"namespace": "default", "name": "nowhere", "port": 443},
    },
}
# A CRD in that group: kopf re-reads the group's discovery whenever one of its CRDs changes.
PROBE_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"resilienceprobes.{INFRASTRUCTURE_GROUP}"},
    "spec": {
        "group": INFRASTRUCTURE_GROUP,
        "names": {"plural": "resilienceprobes", "singular": "resilienceprobe", "kind": "ResilienceProbe"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1alpha9",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object"}},
            }
        ],
    },
}


def core_restarts(operator: str) -> float | None:
    """The restart counter, or None while the probe port is closed (between two cores)."""
    try:
        return metric(operator, "kubetenancy_operator_core_restarts_total")
    except (urllib.error.URLError, ConnectionError):
        return None


async def test_a_failed_core_restarts_and_serves_again(control_plane: ControlPlane, tmp_path: Path) -> None:
    cluster = control_plane.clusters[1]  # its own operator, so the session's stays untouched
    process, operator = start_operator(cluster, tmp_path, tmp_path / "certs")
    async with Kube(cluster.kubeconfig()) as admin:
        try:
            assert core_restarts(operator) == 0
            try:
                await admin.apply(BROKEN_VERSION)
                await admin.apply(PROBE_CRD)

                async def restarted() -> bool:
                    assert process.alive(), f"the operator exited; its log ends:\n{process.log_tail(40)}"
                    return (core_restarts(operator) or 0) >= 1

                # kopf retries the failing discovery for about a minute before its observer gives up.
                await eventually(restarted, within=180)
            finally:
                await admin.delete("apiregistration.k8s.io/v1", "APIService", BROKEN_VERSION["metadata"]["name"])
                await admin.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", PROBE_CRD["metadata"]["name"])

            async def serves_webhooks() -> bool:
                quota = {
                    "apiVersion": QUOTA_API,
                    "kind": "Quota",
                    "metadata": {"name": "after-restart"},
                    "spec": {"limitrange": {"limits": [{"type": "Pod", "defaultRequest": {"cpu": "200m"}}]}},
                }
                try:
                    await admin.apply(quota)
                except ApiError as error:
                    # Refused by the restarted webhook (not "failed calling webhook"): it judges again.
                    return str(error.status.message).startswith('admission webhook "quotas.kubetenancy.dev" denied')
                raise AssertionError("a Quota the webhook refuses was admitted")

            await eventually(serves_webhooks, within=120)
            assert process.alive()
        finally:
            process.stop()
