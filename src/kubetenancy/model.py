"""The one internal tenancy model every front door produces and the engine consumes.

An MTO Tenant and a Kiosk Account are both a `Tenant`; a tenant namespace is a `TenantNamespace`; an MTO
Quota and a Kiosk AccountQuota are both a `TenantQuota`. The engine never asks which API a tenant came
from. Everything here is immutable data; no I/O, no Kubernetes client.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Tier = Literal["owner", "editor", "viewer"]
TIERS: tuple[Tier, ...] = ("owner", "editor", "viewer")

TENANT_LABEL = "kubetenancy.dev/tenant"
"""On every namespace of a tenant and every object kubetenancy manages for it."""
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubetenancy"}
INITIALIZING = "kubetenancy.dev/initializing"
"""On a new namespace whose members get access only once its mandatory templates are deployed."""


@dataclass(frozen=True)
class Members:
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def includes(self, user: str, groups: tuple[str, ...]) -> bool:
        return user in self.users or any(g in self.groups for g in groups)


@dataclass(frozen=True)
class TenantNamespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    private_to: str | None = None
    """Set for a private sandbox: only this user gets access."""
    held: bool = False
    """Members get no access yet: the namespace is new and its templates are not all deployed."""
    pod_security: str | None = None
    """The Pod Security level the namespace carries now (None: not seen yet); the operator never lowers it."""


@dataclass(frozen=True)
class TenantQuota:
    """A limit on the sum over all of a tenant's namespaces, plus the LimitRange each namespace gets."""

    name: str
    hard: Mapping[str, str] = field(default_factory=dict)
    limit_range: tuple[Mapping[str, Any], ...] = ()
    tenant: str | None = None
    """The tenant it limits, for a quota that names its tenant (Kiosk's AccountQuota); None when tenants
    name their quota (MTO's Tenant spec.quota)."""


AllowList = frozenset[str] | None
"""None: not checked. Empty: everything allowed. Otherwise: only these names ("" = none given)."""


@dataclass(frozen=True)
class WorkloadPolicy:
    storage_classes: AllowList = None
    ingress_classes: AllowList = None
    priority_classes: AllowList = None
    image_registries: AllowList = None
    denied_service_accounts: frozenset[str] = frozenset()
    allowed_hosts: frozenset[str] | None = None
    allowed_host_regex: str | None = None
    deny_wildcard_hosts: bool = False

    @property
    def checks_hosts(self) -> bool:
        return self.allowed_hosts is not None or self.allowed_host_regex is not None or self.deny_wildcard_hosts


@dataclass(frozen=True)
class NamespaceTemplate:
    """A template instance every namespace of a tenant gets before its members get access (Kiosk's
    mandatory `templateInstances`)."""

    name: str
    template: str
    api_version: str
    """Of the instance kind it is written as (the front door's choice)."""
    kind: str
    sync: bool = False
    parameters: tuple[tuple[str, str], ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tenant:
    name: str
    members: Mapping[Tier, Members]
    namespaces: tuple[TenantNamespace, ...]
    quota_name: str | None
    quota: TenantQuota | None = None
    """None when the named quota does not exist (the tenant is then not Ready)."""
    policy: WorkloadPolicy = WorkloadPolicy()
    purge_namespaces_on_delete: bool = False
    spec_namespaces: frozenset[str] = frozenset()
    """The namespaces its custom resource lists, as its front door read them (the rest of `namespaces`
    were claimed by label)."""
    roles: Mapping[Tier, tuple[str, ...]] | None = None
    """ClusterRoles per tier when the tenant's own API names them (a Kiosk account's clusterRole);
    None: the cluster policy's roles."""
    common_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels every namespace of the tenant gets, including namespaces it claimed by label."""
    claim_label: str | None = None
    """The label of the tenant's own API that hands it a namespace (`stakater.com/tenant`,
    `kiosk.sh/account`). Set on the namespaces its resource lists; on claimed namespaces it is whoever
    claimed them who sets it, so a pass that started before an admin moved one cannot move it back."""
    common_annotations: Mapping[str, str] = field(default_factory=dict)
    namespace_limit: int | None = None
    """How many namespaces the tenant may own; None: no limit."""
    owners_create_namespaces: bool = True
    """Owners may create namespaces directly (MTO); Kiosk accounts create Spaces instead."""
    templates: tuple[NamespaceTemplate, ...] = ()

    def namespace_names(self) -> tuple[str, ...]:
        return tuple(ns.name for ns in self.namespaces)

    def tier_of(self, user: str, groups: tuple[str, ...]) -> Tier | None:
        for tier in TIERS:
            if self.members.get(tier, Members()).includes(user, groups):
                return tier
        return None


@dataclass(frozen=True)
class CustomRoles:
    selector: Mapping[str, str]
    """matchLabels a namespace must carry."""
    roles: Mapping[Tier, tuple[str, ...]]


@dataclass(frozen=True)
class ClusterPolicy:
    """Settings that apply to all tenants (MTO's IntegrationConfig and operator options)."""

    roles: Mapping[Tier, tuple[str, ...]] = field(
        default_factory=lambda: {"owner": ("admin",), "editor": ("edit",), "viewer": ("view",)}
    )
    custom_roles: tuple[CustomRoles, ...] = ()
    bypassed_groups: frozenset[str] = frozenset()
    privileged_users: tuple[str, ...] = ()
    privileged_groups: tuple[str, ...] = ()
    privileged_namespaces: tuple[str, ...] = ()
    disable_intra_tenant_networking: bool = False
    disable_node_port_services: bool = False
    disable_host_ports: bool = False
    pod_security: str = "baseline"
    """The Pod Security level every tenant namespace has at least (IntegrationConfig)."""
    always_pull_images: bool = False
    """Every container of a tenant pod gets imagePullPolicy: Always at admission."""

    def roles_for(self, tier: Tier, namespace_labels: Mapping[str, str]) -> tuple[str, ...]:
        for custom in self.custom_roles:
            if all(namespace_labels.get(k) == v for k, v in custom.selector.items()) and tier in custom.roles:
                return custom.roles[tier]
        return self.roles[tier]

    def bypasses(self, user: str, groups: tuple[str, ...]) -> bool:
        """Members of bypassed groups, privileged users and groups, and Kubernetes' own components pass."""
        if self.bypassed_groups.intersection(groups) or "system:masters" in groups:
            return True
        if user.startswith("system:") and not user.startswith("system:serviceaccount:"):
            return True  # the API server, controller manager and other control-plane components
        if user.startswith("system:serviceaccount:kube-system:"):
            return True  # controllers acting as their own service accounts (namespace deletion, GC)
        if any(re.fullmatch(pattern, user) for pattern in self.privileged_users):
            return True
        return any(re.fullmatch(pattern, g) for pattern in self.privileged_groups for g in groups)

    def is_privileged_namespace(self, namespace: str) -> bool:
        return any(re.fullmatch(pattern, namespace) for pattern in self.privileged_namespaces)


# -- cloud identities (Cluster API AWS) ---------------------------------------------------------------


@dataclass(frozen=True)
class LabelRequirement:
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class NamespaceAllowance:
    """Which namespaces may use a cloud identity, kept as written: CAPA tells absent (None) from empty."""

    present: bool
    """False when the identity has no allowedNamespaces (absent or null)."""
    names: tuple[str, ...] | None = None
    match_labels: Mapping[str, str] | None = None
    match_expressions: tuple[LabelRequirement, ...] | None = None

    @property
    def label_keys(self) -> frozenset[str]:
        """Namespace labels the allowance reads: whoever may set them may hand out the identity."""
        keys = set(self.match_labels or {}) | {r.key for r in self.match_expressions or ()}
        return frozenset(keys)


CONTROLLER_IDENTITY_KIND = "AWSClusterControllerIdentity"
CONTROLLER_IDENTITY_NAME = "default"
"""CAPA's controller identity is a singleton of this name."""


@dataclass(frozen=True)
class IdentityKey:
    kind: str
    """AWSClusterControllerIdentity, AWSClusterRoleIdentity or AWSClusterStaticIdentity."""
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class CloudIdentity:
    """A cluster-scoped AWS identity CAPA reconciles clusters with."""

    key: IdentityKey
    allowance: NamespaceAllowance
    role_arn: str = ""
    """Set for a role identity: the role its clusters' credentials are sessions of."""
    source: IdentityKey | None = None
    """Whose credentials assume the role (role identities)."""
    secret_ref: str = ""
    """Static identities: the Secret with the access key, in CAPA's own namespace."""
    session_name: str = ""
    external_id: str = ""
    duration_seconds: int = 0
    inline_policy: str = ""


@dataclass(frozen=True)
class CloudCluster:
    """A CAPA object reconciled with an identity (AWSCluster, AWSManagedControlPlane, ROSA kinds)."""

    kind: str
    namespace: str
    """"" for cluster-scoped kinds, which no namespace-restricted identity allows."""
    name: str
    identity: IdentityKey
    region: str = ""
    cluster_name: str | None = None
    """The Cluster API cluster it belongs to (its label or owner), when known; CAPA tags AWS resources
    with this name."""
    owns_network: bool = False
    """Whether CAPA finds its AWS resources (VPC, subnets, load balancers) by a tag carrying only the
    Cluster API cluster's name (AWSCluster, AWSManagedControlPlane): two such objects of one name in one
    account and region share those resources."""

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"
