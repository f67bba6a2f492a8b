"""Cluster-wide objects the operator keeps regardless of tenants: its own ClusterRoles, and Kiosk's as
Kiosk's chart ships them (users bind `kiosk-edit` and `kiosk-space-admin` by name)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubetenancy.desired.apiservice import SHOWBACK_GROUP
from kubetenancy.desired.tenant import NAMESPACE_CREATOR_ROLE, RBAC_API
from kubetenancy.model import MANAGED_BY

TENANCY_GROUP = "tenancy.kiosk.sh"
TENANCY_LISTERS = "kubetenancy-tenancy-listers"
"""Everyone may list and watch Spaces and Accounts (filtered per caller); `get` by name is per tenant."""
SHOWBACK_READERS = "kubetenancy-showback-readers"
"""Everyone may read TenantCosts: the aggregated API answers each caller with their own tenants' only."""


def _cluster_role(name: str, rules: list[dict[str, Any]] | None, **extra: Any) -> dict[str, Any]:
    """`rules=None` for an aggregated role: the aggregation controller owns its rules."""
    labels = {**extra.pop("labels", {}), **MANAGED_BY}
    role = {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": {"name": name, "labels": labels}, **extra}
    return role if rules is None else {**role, "rules": rules}


def _rule(group: str, resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiGroups": [group], "resources": resources, "verbs": verbs}


def kiosk_roles() -> list[dict[str, Any]]:
    """`kiosk-edit` (create spaces), `kiosk-view`, `kiosk-space-admin` (what a space's users get, aggregated
    from `admin` and `rbac.kiosk.sh/aggregate-to-space-admin`) and `kiosk-namespace-delete`."""
    read = ["get", "watch", "list"]
    return [
        _cluster_role(
            "kiosk-edit",
            [
                _rule(TENANCY_GROUP, ["spaces"], [*read, "create", "update", "delete"]),
                _rule(TENANCY_GROUP, ["accounts"], read),
            ],
        ),
        _cluster_role("kiosk-view", [_rule(TENANCY_GROUP, ["spaces", "accounts"], read)]),
        _cluster_role(
            "kiosk-space-admin",
            None,
            aggregationRule={
                "clusterRoleSelectors": [
                    {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}},
                    {"matchLabels": {"rbac.kiosk.sh/aggregate-to-space-admin": "true"}},
                ]
            },
        ),
        _cluster_role(
            "kiosk-namespace-delete",
            [_rule("", ["namespaces"], ["delete"])],
            labels={"rbac.kiosk.sh/aggregate-to-space-admin": "true"},
        ),
    ]


def _everyone(role: str) -> dict[str, Any]:
    return {
        "apiVersion": RBAC_API,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": role, "labels": dict(MANAGED_BY)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}],
    }


def tenant_kind_roles(kinds: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Rights on kubetenancy's namespaced kinds that tenants use themselves (`(group, plural)`: the
    TemplateInstances of MTO and Kiosk), aggregated into Kubernetes' `admin`, `edit` and `view`, which tenant
    owners, editors and viewers hold in their namespaces: owners apply templates as they create any other
    object there, and the template webhooks judge them as for anyone."""
    read = ["get", "list", "watch"]
    write = [*read, "create", "update", "patch", "delete"]
    aggregate = "rbac.authorization.k8s.io/aggregate-to-"
    return [
        _cluster_role(
            f"kubetenancy-tenant-kinds-{name}",
            [_rule(group, [plural], verbs) for group, plural in kinds],
            labels={f"{aggregate}{role}": "true" for role in roles},
        )
        for name, verbs, roles in (("edit", write, ("admin", "edit")), ("view", read, ("view",)))
    ]


def static_objects(tenant_kinds: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        _cluster_role(NAMESPACE_CREATOR_ROLE, [_rule("", ["namespaces"], ["create"])]),
        *tenant_kind_roles(tenant_kinds),
        *kiosk_roles(),
        _cluster_role(TENANCY_LISTERS, [_rule(TENANCY_GROUP, ["spaces", "accounts"], ["list", "watch"])]),
        # Everyone may list and watch Spaces and Accounts: the aggregated API shows each caller only their
        # own, so a user in no account sees an empty list instead of an error. `get` by name is granted
        # per tenant for exactly its namespaces and account (desired/tenant_access.py), so `kubectl auth
        # can-i get spaces` is "no" for a tenant, as the multi-tenancy benchmarks expect.
        _everyone(TENANCY_LISTERS),
        _cluster_role(SHOWBACK_READERS, [_rule(SHOWBACK_GROUP, ["tenantcosts"], ["get", "list"])]),
        _everyone(SHOWBACK_READERS),
    ]
