"""Cluster-wide objects the operator keeps regardless of tenants."""

from __future__ import annotations

from typing import Any

from kubetenancy.desired.tenant import NAMESPACE_CREATOR_ROLE, RBAC_API
from kubetenancy.model import MANAGED_BY


def static_objects() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": RBAC_API,
            "kind": "ClusterRole",
            "metadata": {"name": NAMESPACE_CREATOR_ROLE, "labels": dict(MANAGED_BY)},
            "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["create"]}],
        }
    ]
