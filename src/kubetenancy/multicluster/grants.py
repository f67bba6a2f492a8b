"""What a RoleRequest puts in a managed cluster, and the tenant admin's kubeconfig Secret (pure).

As Sveltos' access-manager does: the tenant admin `<ns>/<name>` of the management cluster becomes the
ServiceAccount `<ns>--<name>` in namespace `projectsveltos` of each matching cluster; every referenced
Role and ClusterRole is deployed under its own name (namespaces of Roles are created if missing, never
deleted) and bound to that ServiceAccount by a RoleBinding or ClusterRoleBinding of the same name. The
kubeconfig for it lives in the management cluster in Secret `sveltos-<sha256(cluster+ns+name)>` of the
cluster's namespace, with the same labels Sveltos puts there. Everything deployed is labelled so that it
can be found (admin-rbac) and pruned (per RoleRequest). No I/O.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from kubetenancy.cluster_model import Admin, ManagedCluster, RoleRequest
from kubetenancy.desired import content_hash
from kubetenancy.model import MANAGED_BY
from kubetenancy.multicluster.references import UnusableReference

SA_NAMESPACE = "projectsveltos"
"""Where tenant admins' ServiceAccounts live in managed clusters (Sveltos' choice)."""
DEFAULT_EXPIRATION_SECONDS = 365 * 24 * 3600
"""Sveltos' default validity of a tenant admin's token."""
RBAC = "rbac.authorization.k8s.io"
RBAC_V1 = f"{RBAC}/v1"

ROLE_REQUEST_LABEL = "projectsveltos.io/role-request"
"""Sveltos' label (value "ok") on everything generated for RoleRequests, in both clusters."""
GRANT_LABEL = "kubetenancy.dev/role-request"
"""Which RoleRequest a Role or binding was granted by: pruning is per RoleRequest."""
ADMIN_NAME_LABEL = "projectsveltos.io/role-service-account-name"
ADMIN_NAMESPACE_LABEL = "projectsveltos.io/role-service-account-namespace"
CLUSTER_LABEL = "projectsveltos.io/role-cluster"
CLUSTER_KIND_LABEL = "kubetenancy.dev/cluster-kind"
REFERENCE_KIND_LABEL = "projectsveltos.io/reference-kind"
REFERENCE_NAME_LABEL = "projectsveltos.io/reference-name"
REFERENCE_NAMESPACE_LABEL = "projectsveltos.io/reference-namespace"
EXPIRATION_KEY = "expirationTime"
KUBECONFIG_KEY = "kubeconfig"

GRANT_KINDS: tuple[tuple[str, str], ...] = (
    (RBAC_V1, "RoleBinding"),
    (RBAC_V1, "ClusterRoleBinding"),
    (RBAC_V1, "Role"),
    (RBAC_V1, "ClusterRole"),
)
"""What is pruned when a RoleRequest no longer grants it (the ServiceAccount is shared by the admin's
RoleRequests and removed with the last of them)."""


@dataclass(frozen=True)
class SourcedRole:
    """A Role or ClusterRole and the ConfigMap or Secret it came from."""

    role: Mapping[str, Any]
    source_kind: str
    source_namespace: str
    source_name: str


def admin_labels(admin: Admin) -> dict[str, str]:
    return {ADMIN_NAME_LABEL: admin.name, ADMIN_NAMESPACE_LABEL: admin.namespace}


def label_value(name: str) -> str:
    """A label value for a name that may be longer than a label value can be (63)."""
    if len(name) <= 63:
        return name
    return f"{name[:52]}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"


def grant_selector(role_request: str) -> dict[str, str]:
    return {**MANAGED_BY, GRANT_LABEL: label_value(role_request)}


def roles_in(documents: Sequence[Mapping[str, Any]], where: str) -> list[Mapping[str, Any]]:
    """The Roles and ClusterRoles of a referenced ConfigMap or Secret; anything else is refused."""
    for doc in documents:
        group = doc["apiVersion"].rpartition("/")[0]
        if group != RBAC or doc["kind"] not in ("Role", "ClusterRole"):
            raise UnusableReference(
                f"{where} holds {doc['kind']} {doc['metadata']['name']}: a RoleRequest grants only Roles and "
                "ClusterRoles; move it to a ClusterProfile"
            )
        if doc["kind"] == "Role" and not doc["metadata"].get("namespace"):
            raise UnusableReference(f"{where} holds Role {doc['metadata']['name']} without metadata.namespace")
    return list(documents)


def grant_objects(request: RoleRequest, roles: Sequence[SourcedRole]) -> list[dict[str, Any]]:
    """Everything the RoleRequest puts in one managed cluster, namespaces first."""
    admin = request.admin
    common = {
        ROLE_REQUEST_LABEL: "ok",
        **MANAGED_BY,
        ADMIN_NAME_LABEL: admin.name,
        ADMIN_NAMESPACE_LABEL: admin.namespace,
    }
    granted = {**common, GRANT_LABEL: label_value(request.name)}
    subject = {"kind": "ServiceAccount", "name": admin.managed_name, "namespace": SA_NAMESPACE}
    namespaces = sorted({SA_NAMESPACE} | {r.role["metadata"]["namespace"] for r in roles if r.role["kind"] == "Role"})
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in namespaces
    ]
    objects.append(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": admin.managed_name, "namespace": SA_NAMESPACE, "labels": common},
        }
    )
    for sourced in roles:
        meta = sourced.role["metadata"]
        kind = sourced.role["kind"]
        namespace = meta.get("namespace") if kind == "Role" else None
        source = {
            REFERENCE_KIND_LABEL: sourced.source_kind,
            REFERENCE_NAME_LABEL: label_value(sourced.source_name),
            REFERENCE_NAMESPACE_LABEL: sourced.source_namespace,
        }
        role_meta: dict[str, Any] = {
            "name": meta["name"],
            "labels": {**(meta.get("labels") or {}), **granted, **source},
        }
        if meta.get("annotations"):
            role_meta["annotations"] = dict(meta["annotations"])
        binding_meta: dict[str, Any] = {"name": meta["name"], "labels": granted}
        if namespace:
            role_meta["namespace"] = binding_meta["namespace"] = namespace
        role = {key: value for key, value in sourced.role.items() if key not in ("metadata", "status")}
        objects.append({**role, "apiVersion": RBAC_V1, "metadata": role_meta})
        objects.append(
            {
                "apiVersion": RBAC_V1,
                "kind": "RoleBinding" if kind == "Role" else "ClusterRoleBinding",
                "metadata": binding_meta,
                "roleRef": {"apiGroup": RBAC, "kind": kind, "name": meta["name"]},
                "subjects": [subject],
            }
        )
    return objects


def grant_hash(cluster: ManagedCluster, request: RoleRequest, objects: Sequence[Mapping[str, Any]]) -> str:
    """Equal hashes: the cluster already holds exactly this grant."""
    expiration = {"expirationSeconds": request.expiration_seconds}
    return content_hash([cluster.reference(), expiration, *map(dict, objects)])


def kubeconfig_secret_name(cluster: ManagedCluster, admin: Admin) -> str:
    digest = hashlib.sha256(f"{cluster.name}{admin.namespace}{admin.name}".encode()).hexdigest()
    return f"sveltos-{digest}"


def kubeconfig_secret_labels(cluster: ManagedCluster, admin: Admin) -> dict[str, str]:
    return {
        CLUSTER_LABEL: label_value(cluster.name),
        ADMIN_NAME_LABEL: admin.name,
        ADMIN_NAMESPACE_LABEL: admin.namespace,
        ROLE_REQUEST_LABEL: "ok",
        CLUSTER_KIND_LABEL: cluster.kind,
        **MANAGED_BY,
    }


def kubeconfig_secret(
    cluster: ManagedCluster, admin: Admin, kubeconfig: Mapping[str, Any], expiration: str
) -> dict[str, Any]:
    """The management cluster's Secret holding the tenant admin's kubeconfig for `cluster`."""

    def encode(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": kubeconfig_secret_name(cluster, admin),
            "namespace": cluster.namespace,
            "labels": kubeconfig_secret_labels(cluster, admin),
        },
        "data": {
            KUBECONFIG_KEY: encode(yaml.safe_dump(dict(kubeconfig), sort_keys=False)),
            # As Sveltos stores it: a metav1.Time marshalled to JSON.
            EXPIRATION_KEY: encode(json.dumps(expiration)),
        },
    }


def stored_expiration(secret: Mapping[str, Any] | None) -> str | None:
    """The expiry recorded in a tenant kubeconfig Secret, if any."""
    value = ((secret or {}).get("data") or {}).get(EXPIRATION_KEY)
    if not value:
        return None
    try:
        decoded: str = base64.b64decode(value).decode().strip().strip('"')
    except ValueError:
        return None
    return decoded


def stored_kubeconfig(secret: Mapping[str, Any] | None) -> dict[str, Any] | None:
    value = ((secret or {}).get("data") or {}).get(KUBECONFIG_KEY)
    if not value:
        return None
    try:
        loaded = yaml.safe_load(base64.b64decode(value))
    except (ValueError, yaml.YAMLError):
        return None
    return loaded if isinstance(loaded, dict) else None
