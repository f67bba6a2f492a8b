"""`spec.components.console` in the IntegrationConfig deploys the console (MTO's names) and removes it.

Pods do not run on the local control plane yet: this checks the objects the operator writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubetenancy.k8s import Kube
from tests.support.kubectl import Kubectl
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
EXAMPLE = Path(__file__).parents[2] / "examples" / "mto-eks-tenants" / "integration-config.yaml"
NAMESPACE = "multi-tenant-operator"
CONFIG = ("tenantoperator.stakater.com/v1beta1", "IntegrationConfig", "tenant-operator-config", NAMESPACE)


async def names(admin: Kube, api_version: str, kind: str) -> list[str]:
    objects = await admin.list(api_version, kind, namespace=NAMESPACE, labels={"kubetenancy.dev/component": "console"})
    return sorted(o["metadata"]["name"] for o in objects)


async def test_the_console_follows_the_integration_config(operator: str, admin: Kube, kubectl: Kubectl) -> None:
    kubectl.ok("apply", "-f", EXAMPLE)
    shown = kubectl.ok(
        "get", "integrationconfig", "tenant-operator-config", "-o=jsonpath={.spec.components}", "-n", NAMESPACE
    )
    assert shown == '{"console":true,"showback":true}'  # what the seed's command prints

    async def deployed() -> bool:
        return await names(admin, "apps/v1", "Deployment") == ["tenant-operator-console"]

    await eventually(deployed)
    deployment = await admin.get("apps/v1", "Deployment", "tenant-operator-console", NAMESPACE)
    assert deployment is not None
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["args"][:2] == ["console", "run"]
    assert await names(admin, "v1", "Service") == ["tenant-operator-console"]
    assert await names(admin, "networking.k8s.io/v1", "Ingress") == []  # no host configured

    hosts = {
        "console": True,
        "showback": True,
        "ingress": {
            "ingressClassName": "nginx",
            "console": {"host": "console.kubetenancy.local"},
            "gateway": {"host": "gateway.kubetenancy.local"},
            "keycloak": {"host": "keycloak.kubetenancy.local"},
        },
    }
    patch = json.dumps({"spec": {"components": hosts}})
    kubectl.ok("patch", "integrationconfig", "tenant-operator-config", "-n", NAMESPACE, "--type=merge", "-p", patch)
    expected = ["tenant-operator-console", "tenant-operator-gateway", "tenant-operator-keycloak"]

    async def with_ingresses() -> bool:
        return await names(admin, "networking.k8s.io/v1", "Ingress") == expected

    await eventually(with_ingresses)
    listed = kubectl.ok("get", "ingress", "-n", NAMESPACE)
    assert "console.kubetenancy.local" in listed
    assert "tenant-operator-gateway" in listed

    off = json.dumps({"spec": {"components": {"console": False, "ingress": None}}})
    kubectl.ok("patch", "integrationconfig", "tenant-operator-config", "-n", NAMESPACE, "--type=merge", "-p", off)

    async def removed() -> bool:
        kinds = (
            ("apps/v1", "Deployment"),
            ("v1", "Service"),
            ("networking.k8s.io/v1", "Ingress"),
            ("v1", "ServiceAccount"),
        )
        return all([await names(admin, a, k) == [] for a, k in kinds])

    await eventually(removed)
    # Enabled again, then the IntegrationConfig deleted: the console goes with it.
    kubectl.ok("apply", "-f", EXAMPLE)
    await eventually(deployed)
    assert await admin.delete(*CONFIG[:3], NAMESPACE)
    await eventually(removed)
