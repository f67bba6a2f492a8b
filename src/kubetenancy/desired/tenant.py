"""Everything that should exist for one tenant: namespaces, RoleBindings, quotas, limits, network rules."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from kubetenancy.desired.meta import OwnerRef, managed_metadata
from kubetenancy.desired.pod_security import ALWAYS_PULL_LABEL, ENFORCE, strictest
from kubetenancy.desired.tenant_access import read_access
from kubetenancy.model import TIERS, ClusterPolicy, Members, Tenant, TenantNamespace, TenantQuota, Tier

RBAC_API = "rbac.authorization.k8s.io/v1"
RESOURCE_QUOTA = "kubetenancy-tenant-quota"
LIMIT_RANGE = "kubetenancy-tenant-limits"
QUOTA_ANNOTATION = "kubetenancy.dev/quota"
"""Which quota (an MTO Quota, or a Kiosk account's AccountQuotas) a ResourceQuota or LimitRange carries."""
POLICY_LABEL = "kubetenancy.dev/policy"
"""Set to "enforced" on namespaces of tenants with workload, class or host policies: the webhook for
those selects only these namespaces, so other tenants never depend on it."""
NAMESPACE_CREATOR_ROLE = "kubetenancy-namespace-creator"
"""ClusterRole letting tenant owners create namespaces; the namespace webhook keeps them in their tenant."""

__all__ = ["OwnerRef", "content_hash", "namespace", "tenant_objects"]


def namespace(tenant: Tenant, ns: TenantNamespace, policy: ClusterPolicy, owner: OwnerRef | None) -> dict[str, Any]:
    # A namespace the tenant claimed by label keeps the labels whoever claimed it set (they only pick its
    # roles here): applying them again would make them the operator's, and a pass that started before
    # someone moved the namespace to another tenant would move it back.
    listed = ns.name in tenant.spec_namespaces
    labels = {**tenant.common_labels, **(ns.labels if listed else {})}
    labels[ENFORCE] = strictest(policy.pod_security, labels.get(ENFORCE), ns.labels.get(ENFORCE), ns.pod_security)
    if policy.always_pull_images:
        labels[ALWAYS_PULL_LABEL] = "true"
    if listed and tenant.claim_label:
        labels[tenant.claim_label] = tenant.name
    if has_workload_policy(tenant, policy):
        labels[POLICY_LABEL] = "enforced"
    purge_owner = owner if tenant.purge_namespaces_on_delete else None
    annotations = {**tenant.common_annotations, **ns.annotations}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": managed_metadata(ns.name, tenant.name, owner=purge_owner, labels=labels, annotations=annotations),
    }


def relabelled_namespaces(
    objects: Sequence[dict[str, Any]], labels_by_namespace: Mapping[str, Mapping[str, str]]
) -> list[dict[str, Any]]:
    """The desired Namespaces whose labels, as last seen on the cluster, lack one of theirs or hold another
    value (an admin loosened the Pod Security level): applying them puts those labels back. Namespaces not
    seen yet are left to the pass that creates them."""
    return [
        obj
        for obj in objects
        if obj["kind"] == "Namespace"
        and (live := labels_by_namespace.get(obj["metadata"]["name"])) is not None
        and any(live.get(key) != value for key, value in obj["metadata"]["labels"].items())
    ]


def has_workload_policy(tenant: Tenant, policy: ClusterPolicy) -> bool:
    rules = tenant.policy
    tenant_rules = (
        rules.storage_classes, rules.ingress_classes, rules.priority_classes, rules.image_registries,
    )  # fmt: skip
    return (
        any(allowed for allowed in tenant_rules)
        or bool(rules.denied_service_accounts)
        or rules.checks_hosts
        or policy.disable_host_ports
        or policy.disable_node_port_services
    )


def _subjects(members: Members) -> list[dict[str, str]]:
    users = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u} for u in members.users]
    groups = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in members.groups]
    return users + groups


def _members_in(tenant: Tenant, ns: TenantNamespace, tier: Tier) -> Members:
    members = tenant.members.get(tier, Members())
    if ns.private_to is None:
        return members
    # A private sandbox belongs to its user alone, whatever their tier.
    return Members(users=(ns.private_to,)) if tier == "owner" else Members()


def _roles(tenant: Tenant, ns: TenantNamespace, policy: ClusterPolicy, tier: Tier) -> tuple[str, ...]:
    if tenant.roles is not None:
        return tenant.roles.get(tier, ())
    return policy.roles_for(tier, ns.labels)


def role_bindings(
    tenant: Tenant, ns: TenantNamespace, policy: ClusterPolicy, owner: OwnerRef | None
) -> list[dict[str, Any]]:
    """What members may do in `ns`; nothing while it is held for its templates."""
    if ns.held:
        return []
    bindings = []
    for tier in TIERS:
        subjects = _subjects(_members_in(tenant, ns, tier))
        if not subjects:
            continue
        for role in _roles(tenant, ns, policy, tier):
            bindings.append(
                {
                    "apiVersion": RBAC_API,
                    "kind": "RoleBinding",
                    "metadata": managed_metadata(
                        f"kubetenancy-{tier}-{role}", tenant.name, namespace=ns.name, owner=owner
                    ),
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                    "subjects": subjects,
                }
            )
    return bindings


def quota_objects(tenant: Tenant, ns: TenantNamespace, owner: OwnerRef | None) -> list[dict[str, Any]]:
    """Each namespace's ResourceQuota carries the whole tenant limit; the quota webhook holds the sum."""
    quota = tenant.quota
    if quota is None:
        return []
    objects: list[dict[str, Any]] = []
    annotations = {QUOTA_ANNOTATION: quota.name}
    if quota.hard:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": managed_metadata(
                    RESOURCE_QUOTA, tenant.name, namespace=ns.name, owner=owner, annotations=annotations
                ),
                "spec": {"hard": dict(quota.hard)},
            }
        )
    limits = limit_range_items(quota)
    if limits:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": managed_metadata(
                    LIMIT_RANGE, tenant.name, namespace=ns.name, owner=owner, annotations=annotations
                ),
                "spec": {"limits": limits},
            }
        )
    return objects


REQUEST_KEYS = {key: key for key in ("cpu", "memory", "ephemeral-storage")}
REQUEST_KEYS.update({f"requests.{key}": key for key in ("cpu", "memory", "ephemeral-storage")})


def limit_range_items(quota: TenantQuota) -> list[dict[str, Any]]:
    """The Quota's LimitRange, plus a zero default request for each request the quota limits without one.

    A ResourceQuota on `memory` refuses pods that state no memory request ("must specify memory"), which
    would break `kubectl run nginx` in MTO's walkthroughs. A zero default request keeps such pods admitted
    and counted as using nothing, as a tenant-wide evaluator would count them. Limits are never defaulted:
    a zero limit would make containers unusable.
    """
    items = [dict(item) for item in quota.limit_range]
    constrained = {REQUEST_KEYS[key] for key in quota.hard if key in REQUEST_KEYS}
    if not constrained:
        return items
    container = next((item for item in items if item.get("type") == "Container"), None)
    if container is None:
        container = {"type": "Container"}
        items.append(container)
    stated = {*container.get("defaultRequest", {}), *container.get("default", {}), *container.get("min", {})}
    zeros = {resource: "0" for resource in sorted(constrained - stated)}
    if zeros:
        container["defaultRequest"] = {**container.get("defaultRequest", {}), **zeros}
    return items


def network_policies(
    tenant: Tenant, ns: TenantNamespace, policy: ClusterPolicy, owner: OwnerRef | None
) -> list[dict[str, Any]]:
    if not policy.disable_intra_tenant_networking:
        return []
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": managed_metadata(
                "kubetenancy-same-namespace-only", tenant.name, namespace=ns.name, owner=owner
            ),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
            },
        }
    ]


def owner_namespace_creation(tenant: Tenant, owner: OwnerRef | None) -> list[dict[str, Any]]:
    subjects = _subjects(tenant.members.get("owner", Members()))
    if not subjects or not tenant.owners_create_namespaces:
        return []
    return [
        {
            "apiVersion": RBAC_API,
            "kind": "ClusterRoleBinding",
            "metadata": managed_metadata(f"kubetenancy-{tenant.name}-namespace-creators", tenant.name, owner=owner),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NAMESPACE_CREATOR_ROLE,
            },
            "subjects": subjects,
        }
    ]


def template_instances(tenant: Tenant, ns: TenantNamespace, owner: OwnerRef | None) -> list[dict[str, Any]]:
    """The tenant's mandatory templates, as instances in `ns` (the template engine deploys them)."""
    return [
        {
            "apiVersion": template.api_version,
            "kind": template.kind,
            "metadata": managed_metadata(
                template.name,
                tenant.name,
                namespace=ns.name,
                owner=owner,
                labels=template.labels,
                annotations=template.annotations,
            ),
            "spec": {
                "template": template.template,
                "sync": template.sync,
                "parameters": [{"name": name, "value": value} for name, value in template.parameters],
            },
        }
        for template in tenant.templates
    ]


def tenant_objects(tenant: Tenant, policy: ClusterPolicy, owner: OwnerRef | None) -> list[dict[str, Any]]:
    """Every object of `tenant`, namespaces first so the namespaced ones have somewhere to go."""
    objects = [namespace(tenant, ns, policy, owner) for ns in tenant.namespaces]
    objects += read_access(tenant, owner)
    for ns in tenant.namespaces:
        objects += template_instances(tenant, ns, owner)
        objects += role_bindings(tenant, ns, policy, owner)
        objects += quota_objects(tenant, ns, owner)
        objects += network_policies(tenant, ns, policy, owner)
    objects += owner_namespace_creation(tenant, owner)
    return objects


def content_hash(objects: Sequence[dict[str, Any]]) -> str:
    """Stable across runs and dict orderings: equal hashes mean nothing needs writing."""
    canonical = json.dumps(list(objects), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
