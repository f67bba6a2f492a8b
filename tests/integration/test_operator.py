"""The operator installs its CRDs, serves admission webhooks over TLS, and exposes probes and metrics."""

from __future__ import annotations

import urllib.request

import pytest

from kubetenancy.api import crd_manifests
from kubetenancy.k8s import ApiError, Kube

pytestmark = pytest.mark.integration

QUOTA_API = "tenantoperator.stakater.com/v1beta1"


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode()


async def test_crds_are_established(operator: str, admin: Kube) -> None:
    for manifest in crd_manifests():
        crd = await admin.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", manifest["metadata"]["name"])
        assert crd is not None
        assert any(c["type"] == "Established" and c["status"] == "True" for c in crd["status"]["conditions"])
        assert crd["spec"]["versions"] == manifest["spec"]["versions"]


async def test_valid_quota_is_admitted(operator: str, admin: Kube) -> None:
    quota = {
        "apiVersion": QUOTA_API,
        "kind": "Quota",
        "metadata": {"name": "admitted"},
        "spec": {
            "resourcequota": {"hard": {"requests.cpu": "5", "configmaps": 10}},
            "limitrange": {"limits": [{"type": "Container", "defaultRequest": {"cpu": "200m"}}]},
        },
    }
    stored = await admin.apply(quota)
    assert stored["spec"]["resourcequota"]["hard"] == {"requests.cpu": "5", "configmaps": 10}


async def test_webhook_refuses_what_the_schema_cannot_express(operator: str, admin: Kube) -> None:
    quota = {
        "apiVersion": QUOTA_API,
        "kind": "Quota",
        "metadata": {"name": "pod-defaults"},
        "spec": {"limitrange": {"limits": [{"type": "Pod", "defaultRequest": {"cpu": "200m"}}]}},
    }
    with pytest.raises(ApiError) as raised:
        await admin.apply(quota)
    assert raised.value.status.message == (
        'admission webhook "quotas.kubetenancy.dev" denied the request: '
        'Quota.tenantoperator.stakater.com "pod-defaults" is invalid: spec.limitrange.limits[0]: '
        "Invalid value: default and defaultRequest may not be specified when type is 'Pod'"
    )
    assert await admin.get(QUOTA_API, "Quota", "pod-defaults") is None


async def test_schema_rejects_malformed_quantities(operator: str, admin: Kube) -> None:
    quota = {
        "apiVersion": QUOTA_API,
        "kind": "Quota",
        "metadata": {"name": "five"},
        "spec": {"resourcequota": {"hard": {"requests.cpu": "five"}}},
    }
    with pytest.raises(ApiError) as raised:
        await admin.apply(quota)
    assert raised.value.status.code == 422
    assert 'spec.resourcequota.hard.requests.cpu: Invalid value: "five"' in raised.value.status.message


async def test_probes_and_metrics(operator: str, admin: Kube) -> None:
    assert fetch(f"{operator}/healthz") == (200, "ok")
    assert fetch(f"{operator}/readyz") == (200, "ok")
    quota = {"apiVersion": QUOTA_API, "kind": "Quota", "metadata": {"name": "metered"}, "spec": {}}
    await admin.apply(quota)
    status, metrics = fetch(f"{operator}/metrics")
    assert status == 200
    assert "kubetenancy_ready 1.0" in metrics
    assert 'kubetenancy_admission_reviews_total{allowed="true",webhook="quotas.kubetenancy.dev"}' in metrics
