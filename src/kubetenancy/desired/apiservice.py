"""The objects that register the aggregated APIs with the API server: an APIService per group (Kiosk's
`tenancy.kiosk.sh`, and `showback.kubetenancy.dev`), and (outside a cluster) the ExternalName Service
through which the aggregator dials a server on this machine. Pure."""

from __future__ import annotations

import base64
from typing import Any

from kubetenancy.model import MANAGED_BY

GROUP = "tenancy.kiosk.sh"
VERSION = "v1alpha1"
APISERVICE_NAME = f"{VERSION}.{GROUP}"
SHOWBACK_GROUP = "showback.kubetenancy.dev"
SHOWBACK_APISERVICE_NAME = f"{VERSION}.{SHOWBACK_GROUP}"


def apiservice(
    namespace: str, service: str, port: int, ca_pem: bytes, *, group: str = GROUP, version: str = VERSION
) -> dict[str, Any]:
    """As Kiosk's chart registers it: group priority 10000, so `kubectl get accounts` means these Accounts."""
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": f"{version}.{group}", "labels": dict(MANAGED_BY)},
        "spec": {
            "group": group,
            "version": version,
            "groupPriorityMinimum": 10000,
            "versionPriority": 1000,
            "service": {"namespace": namespace, "name": service, "port": port},
            "caBundle": base64.b64encode(ca_pem).decode(),
        },
    }


def external_service(namespace: str, service: str, external_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "spec": {"type": "ExternalName", "externalName": external_name},
    }
