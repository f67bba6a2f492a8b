"""`tenantoperator.stakater.com` → model: Tenant + Quota → `Tenant`, IntegrationConfig → `ClusterPolicy`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubetenancy.api.tenantoperator import (
    AllowList,
    IntegrationConfigSpec,
    QuotaSpec,
    Subjects,
    TenantRoleSet,
    TenantSpec,
)
from kubetenancy.model import (
    TIERS,
    ClusterPolicy,
    CustomRoles,
    Members,
    Tenant,
    TenantNamespace,
    TenantQuota,
    Tier,
    WorkloadPolicy,
)

INTEGRATION_CONFIG_NAME = "tenant-operator-config"
"""MTO reads one IntegrationConfig, of this name, in the operator's namespace."""
MTO_TENANT_LABEL = "stakater.com/tenant"
"""MTO stamps this on every tenant namespace; scripts and dashboards of MTO users rely on it."""


def quota_from_cr(name: str, spec: Mapping[str, Any]) -> TenantQuota:
    quota = QuotaSpec.model_validate(spec)
    hard = {k: str(v) for k, v in (quota.resourcequota.hard if quota.resourcequota else {}).items()}
    limits = tuple(item.to_wire() for item in (quota.limitrange.limits if quota.limitrange else []))
    return TenantQuota(name=name, hard=hard, limit_range=limits)


def _members(subjects: Subjects | None) -> Members:
    if subjects is None:
        return Members()
    return Members(users=tuple(subjects.users), groups=tuple(subjects.groups))


def _allow(allow: AllowList | None) -> frozenset[str] | None:
    return None if allow is None else frozenset(allow.allowed)


def sandbox_name(tenant: str, user: str) -> str:
    """`<tenant>-<user>-sandbox`, with the user name folded into a DNS label."""
    slug = re.sub(r"[^a-z0-9-]+", "-", user.lower()).strip("-")
    return f"{tenant}-{slug}-sandbox"


def _namespaces(name: str, spec: TenantSpec, members: Mapping[Tier, Members]) -> tuple[TenantNamespace, ...]:
    namespaces = spec.namespaces
    if namespaces is None:
        return ()
    metadata = namespaces.metadata
    common_labels = dict(metadata.common.labels) if metadata and metadata.common else {}
    common_annotations = dict(metadata.common.annotations) if metadata and metadata.common else {}

    def specific(ns: str) -> tuple[dict[str, str], dict[str, str]]:
        labels, annotations = dict(common_labels), dict(common_annotations)
        for item in metadata.specific if metadata else []:
            if ns in item.namespaces:
                labels.update(item.labels)
                annotations.update(item.annotations)
        return {**labels, MTO_TENANT_LABEL: name}, annotations

    result = []
    names = [f"{name}-{n}" for n in namespaces.with_tenant_prefix] + list(namespaces.without_tenant_prefix)
    for ns in dict.fromkeys(names):
        labels, annotations = specific(ns)
        result.append(TenantNamespace(ns, labels, annotations))
    sandboxes = namespaces.sandboxes
    if sandboxes is not None and sandboxes.enabled:
        sandbox_meta = metadata.sandbox if metadata else None
        users = dict.fromkeys(u for tier in TIERS for u in members[tier].users)
        for user in users:
            ns = sandbox_name(name, user)
            labels, annotations = specific(ns)
            if sandbox_meta is not None:
                labels.update({k: v.replace("{{ TENANT.USERNAME }}", user) for k, v in sandbox_meta.labels.items()})
                annotations.update(
                    {k: v.replace("{{ TENANT.USERNAME }}", user) for k, v in sandbox_meta.annotations.items()}
                )
            result.append(TenantNamespace(ns, labels, annotations, private_to=user if sandboxes.private else None))
    return tuple(result)


def tenant_from_cr(name: str, spec: Mapping[str, Any], quota: TenantQuota | None) -> Tenant:
    """The model of a Tenant CR; `quota` is its Quota CR's model, or None when that does not exist."""
    parsed = TenantSpec.model_validate(spec)
    access = parsed.access_control
    members: dict[Tier, Members] = {
        "owner": _members(access.owners if access else None),
        "editor": _members(access.editors if access else None),
        "viewer": _members(access.viewers if access else None),
    }
    hosts = parsed.host_validation_config
    policy = WorkloadPolicy(
        storage_classes=_allow(parsed.storage_classes),
        ingress_classes=_allow(parsed.ingress_classes),
        priority_classes=_allow(parsed.pod_priority_classes),
        image_registries=_allow(parsed.image_registries),
        denied_service_accounts=frozenset(parsed.service_accounts.denied if parsed.service_accounts else ()),
        allowed_hosts=frozenset(hosts.allowed) if hosts and hosts.allowed else None,
        allowed_host_regex=hosts.allowed_regex if hosts else None,
        deny_wildcard_hosts=bool(hosts and hosts.deny_wildcards),
    )
    common = parsed.namespaces.metadata.common if parsed.namespaces and parsed.namespaces.metadata else None
    namespaces = _namespaces(name, parsed, members)
    return Tenant(
        name=name,
        members=members,
        namespaces=namespaces,
        spec_namespaces=frozenset(ns.name for ns in namespaces),
        common_labels=dict(common.labels) if common else {},
        claim_label=MTO_TENANT_LABEL,
        common_annotations=dict(common.annotations) if common else {},
        quota_name=parsed.quota,
        quota=quota,
        policy=policy,
        purge_namespaces_on_delete=bool(parsed.namespaces and parsed.namespaces.on_delete_purge_namespaces),
    )


def _roles(role_set: TenantRoleSet) -> dict[Tier, tuple[str, ...]]:
    roles: dict[Tier, tuple[str, ...]] = {}
    for tier in TIERS:
        chosen = getattr(role_set, tier)
        if chosen is not None:
            roles[tier] = tuple(chosen.cluster_roles)
    return roles


def cluster_policy(spec: Mapping[str, Any] | None, bypassed_groups: frozenset[str]) -> ClusterPolicy:
    """The IntegrationConfig's settings (defaults when there is none) plus the operator's bypassed groups."""
    defaults = ClusterPolicy(bypassed_groups=bypassed_groups)
    if spec is None:
        return defaults
    parsed = IntegrationConfigSpec.model_validate(spec)
    access = parsed.access_control
    tenant_roles = access.rbac.tenant_roles if access and access.rbac else None
    privileged = access.privileged if access else None
    network = parsed.tenant_policies.network if parsed.tenant_policies else None
    pod_security = parsed.tenant_policies.pod_security if parsed.tenant_policies else None
    return ClusterPolicy(
        roles=_roles(tenant_roles.default) if tenant_roles else defaults.roles,
        custom_roles=tuple(
            CustomRoles(selector=dict(c.label_selector.get("matchLabels", {})), roles=_roles(c))
            for c in (tenant_roles.custom if tenant_roles else [])
        ),
        bypassed_groups=bypassed_groups,
        privileged_users=tuple(privileged.users) if privileged else (),
        privileged_groups=tuple(privileged.groups) if privileged else (),
        privileged_namespaces=tuple(privileged.namespaces) if privileged else (),
        disable_intra_tenant_networking=bool(network and network.disable_intra_tenant_networking),
        disable_node_port_services=bool(network and network.disable_node_port_services),
        disable_host_ports=bool(network and network.disable_host_ports),
        pod_security=pod_security.level if pod_security else defaults.pod_security,
        always_pull_images=bool(parsed.tenant_policies and parsed.tenant_policies.always_pull_images),
    )
