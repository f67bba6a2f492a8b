"""The console's admin-rbac table (sveltosctl's), from RoleRequests and the Roles they reference. Pure.

The console reads only the management cluster, as the logged-in user: a RoleRequest's roles count in a
cluster once its status says they were provisioned there. (`kubectl tenancy show admin-rbac` reads the
managed clusters themselves, with the clusters' kubeconfigs.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from kubetenancy.multicluster.adminrbac import HEADERS, Row

Object = Mapping[str, Any]
__all__ = ["HEADERS", "role_documents", "rows"]


def _join(values: Sequence[str] | None) -> str:
    return ",".join(values or ())


def role_documents(holder: Object) -> list[Object]:
    """The Roles and ClusterRoles in a ConfigMap's data (a Secret's data would be base64: not read here)."""
    found: list[Object] = []
    for text in (holder.get("data") or {}).values():
        for document in yaml.safe_load_all(text):
            if isinstance(document, dict) and document.get("kind") in ("Role", "ClusterRole"):
                found.append(document)
    return found


def _cluster(reference: Object) -> str:
    return f"{reference.get('kind', 'Cluster')}:{reference.get('namespace', '')}/{reference.get('name', '')}"


def rows(requests: Sequence[Object], holders: Mapping[tuple[str, str], Object]) -> list[Row]:
    """One row per rule per provisioned cluster; `holders` are the referenced ConfigMaps by (namespace, name)."""
    table: list[Row] = []
    for request in requests:
        spec = request.get("spec") or {}
        admin = str(spec.get("serviceAccountName", ""))
        roles = [
            role
            for ref in spec.get("roleRefs") or []
            if ref.get("kind") == "ConfigMap" and (ref.get("namespace", ""), ref.get("name", "")) in holders
            for role in role_documents(holders[(ref.get("namespace", ""), ref["name"])])
        ]
        for info in (request.get("status") or {}).get("clusterInfo") or []:
            if info.get("status") != "Provisioned":
                continue
            for role in roles:
                scope = (role.get("metadata") or {}).get("namespace") if role["kind"] == "Role" else None
                for rule in role.get("rules") or []:
                    table.append(
                        (
                            _cluster(info.get("cluster") or {}),
                            admin,
                            scope or "*",
                            _join(rule.get("apiGroups")),
                            _join(rule.get("resources") or rule.get("nonResourceURLs")),
                            _join(rule.get("resourceNames")) or "*",
                            _join(rule.get("verbs")),
                        )
                    )
    return sorted(table)
