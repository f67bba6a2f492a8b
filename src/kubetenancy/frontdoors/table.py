"""The table of front doors: for every kind kubetenancy serves, how its custom resource becomes the model.

One entry per served kind (`kubetenancy.api`), grouped by what the engine makes of it: tenants, quotas,
the cluster policy, templates, template instances, managed clusters, RoleRequests and ClusterProfiles,
and the kinds of other projects the engine reads (Cluster API AWS identities and their consumers).
The operator, the aggregated API and the admission rules find kinds, their coordinates (group, version,
plural) and their models here and nowhere else; no other module outside `frontdoors/` reads a served
API. A new API is one module in `frontdoors/` plus its entries here. Pure: no I/O. A door's `read` raises
ValueError (pydantic's ValidationError is one) when the custom resource cannot be read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from kubetenancy.api import SERVED_CRDS, capa, kiosk_templates, sveltos, tenantoperator, tenantoperator_templates
from kubetenancy.api import kiosk as kiosk_api
from kubetenancy.api.crd import ServedKind
from kubetenancy.cluster_model import ClusterProfile, ManagedCluster, RoleRequest
from kubetenancy.frontdoors import capa as capa_door
from kubetenancy.frontdoors import kiosk
from kubetenancy.frontdoors import kiosk_templates as kiosk_tpl
from kubetenancy.frontdoors import sveltos as sveltos_door
from kubetenancy.frontdoors import tenantoperator as mto
from kubetenancy.frontdoors import tenantoperator_templates as mto_tpl
from kubetenancy.model import CloudCluster, CloudIdentity, ClusterPolicy, Tenant, TenantQuota
from kubetenancy.template_model import Instance, Template

M = TypeVar("M")
CR = Mapping[str, Any]
StatusFormat = Literal["kiosk-instance", "mto-instance", "mto-group"]
"""How a template instance kind reports a pass: Kiosk's status/reason/message, MTO's (the same plus the
copied Secrets and ConfigMaps), or MTO's TemplateGroupInstance (a Ready condition, per namespace)."""


@dataclass(frozen=True)
class Door(Generic[M]):
    served: ServedKind
    """The kind, as `kubetenancy.api` serves it (group, version, plural, scope)."""
    read: Callable[[CR], M]
    """The custom resource (as the API server returns it) -> its model."""


@dataclass(frozen=True)
class TenantDoor(Door[Tenant]):
    """`read` leaves the quota out (`Tenant.quota` None): it lives in other objects (see `with_quota`)."""

    namespaces_status: Callable[[list[str]], list[Any]]
    """How the status lists the tenant's namespaces."""


@dataclass(frozen=True)
class QuotaDoor(Door[TenantQuota]):
    names_tenant: bool
    """True: the quota names the tenant it limits (`TenantQuota.tenant`); False: tenants name it."""


@dataclass(frozen=True)
class PolicyDoor(Door[ClusterPolicy]):
    """`read` leaves the operator's own settings (bypassed groups) out."""

    object_name: str
    """The one object of this kind that is read."""


@dataclass(frozen=True)
class InstanceDoor(Door[Instance]):
    status_format: StatusFormat


def _name(cr: CR) -> str:
    name: str = cr["metadata"]["name"]
    return name


MTO_TENANT = TenantDoor(
    tenantoperator.TENANT_V1BETA3, lambda cr: mto.tenant_from_cr(_name(cr), cr.get("spec") or {}, None), list
)
KIOSK_ACCOUNT = TenantDoor(
    kiosk_api.ACCOUNT_V1ALPHA1,
    lambda cr: kiosk.account_from_cr(_name(cr), cr.get("spec") or {}, None),
    lambda names: [{"name": name} for name in names],
)
MTO_QUOTA = QuotaDoor(
    tenantoperator.QUOTA_V1BETA1, lambda cr: mto.quota_from_cr(_name(cr), cr.get("spec") or {}), names_tenant=False
)
KIOSK_ACCOUNT_QUOTA = QuotaDoor(
    kiosk_api.ACCOUNT_QUOTA_V1ALPHA1,
    lambda cr: kiosk.account_quota_from_cr(_name(cr), cr.get("spec") or {})[1],
    names_tenant=True,
)
MTO_POLICY = PolicyDoor(
    tenantoperator.INTEGRATION_CONFIG_V1BETA1,
    lambda cr: mto.cluster_policy(cr.get("spec"), frozenset()),
    object_name=mto.INTEGRATION_CONFIG_NAME,
)
KIOSK_TEMPLATE: Door[Template] = Door(kiosk_templates.TEMPLATE_V1ALPHA1, kiosk_tpl.template_from_cr)
MTO_TEMPLATE: Door[Template] = Door(tenantoperator_templates.TEMPLATE_V1ALPHA1, mto_tpl.template_from_cr)
KIOSK_INSTANCE = InstanceDoor(
    kiosk_templates.TEMPLATE_INSTANCE_V1ALPHA1, kiosk_tpl.instance_from_cr, status_format="kiosk-instance"
)
MTO_INSTANCE = InstanceDoor(
    tenantoperator_templates.TEMPLATE_INSTANCE_V1ALPHA1, mto_tpl.instance_from_cr, status_format="mto-instance"
)
MTO_GROUP_INSTANCE = InstanceDoor(
    tenantoperator_templates.TEMPLATE_GROUP_INSTANCE_V1ALPHA1, mto_tpl.instance_from_cr, status_format="mto-group"
)
SVELTOS_CLUSTER: Door[ManagedCluster] = Door(sveltos.SVELTOS_CLUSTER_V1BETA1, sveltos_door.sveltos_cluster_from_cr)
CAPI_CLUSTER: Door[ManagedCluster] = Door(sveltos.CAPI_CLUSTER_V1BETA1, sveltos_door.capi_cluster_from_cr)
ROLE_REQUEST: Door[RoleRequest] = Door(sveltos.ROLE_REQUEST_V1BETA1, sveltos_door.role_request_from_cr)
CLUSTER_PROFILE: Door[ClusterProfile] = Door(sveltos.CLUSTER_PROFILE_V1BETA1, sveltos_door.cluster_profile_from_cr)


def _of_kind(read: Callable[[CR], M], kind: str) -> Callable[[CR], M]:
    """List items may omit their kind: the door reads each as the kind it was listed as."""
    return lambda cr: read({**cr, "kind": kind})


CAPA_IDENTITIES: tuple[Door[CloudIdentity], ...] = tuple(
    Door(kind, _of_kind(capa_door.identity_from_cr, kind.kind)) for kind in capa.IDENTITY_KINDS
)
"""Cluster API AWS identities (CAPA's CRDs, read where CAPA is installed)."""
CAPA_ROLE_IDENTITY = next(d for d in CAPA_IDENTITIES if d.served is capa.ROLE_IDENTITY)
CAPA_CLUSTERS: tuple[Door[CloudCluster], ...] = tuple(
    Door(kind, _of_kind(capa_door.cluster_from_cr, kind.kind)) for kind in capa.CONSUMER_KINDS
)
"""CAPA's objects reconciled with an identity (AWSCluster, AWSManagedControlPlane, the ROSA kinds)."""

TENANTS: tuple[TenantDoor, ...] = (MTO_TENANT, KIOSK_ACCOUNT)
QUOTAS: tuple[QuotaDoor, ...] = (MTO_QUOTA, KIOSK_ACCOUNT_QUOTA)
POLICIES: tuple[PolicyDoor, ...] = (MTO_POLICY,)
TEMPLATES: tuple[Door[Template], ...] = (KIOSK_TEMPLATE, MTO_TEMPLATE)
INSTANCES: tuple[InstanceDoor, ...] = (KIOSK_INSTANCE, MTO_INSTANCE, MTO_GROUP_INSTANCE)
CLUSTERS: tuple[Door[ManagedCluster], ...] = (SVELTOS_CLUSTER, CAPI_CLUSTER)
ROLE_REQUESTS: tuple[Door[RoleRequest], ...] = (ROLE_REQUEST,)
CLUSTER_PROFILES: tuple[Door[ClusterProfile], ...] = (CLUSTER_PROFILE,)

ALL: tuple[Door[Any], ...] = (
    *TENANTS, *QUOTAS, *POLICIES, *TEMPLATES, *INSTANCES, *CLUSTERS, *ROLE_REQUESTS, *CLUSTER_PROFILES,
    *CAPA_IDENTITIES, *CAPA_CLUSTERS,
)  # fmt: skip
DOORS: Mapping[tuple[str, str], Door[Any]] = {(door.served.api_version, door.served.kind): door for door in ALL}
"""Every door, by (apiVersion, kind) of the kind it reads."""

MANDATORY_TEMPLATES = (kiosk.MANDATORY_TEMPLATES.api_version, kiosk.MANDATORY_TEMPLATES.kind)
"""(apiVersion, kind) of the instances a tenant's mandatory templates are written as, in each namespace."""

SERVED_KINDS: tuple[ServedKind, ...] = tuple(kind for versions in SERVED_CRDS for kind in versions)
"""What kubetenancy's CRDs serve; every one has a door (checked by the unit tests). Doors also read kinds
whose CRDs other projects install (CAPA's)."""


def door_of(api_version: str, kind: str) -> Door[Any] | None:
    return DOORS.get((api_version, kind))


def tenant_door(group: str, kind: str) -> TenantDoor | None:
    """The door of a tenant kind, by the group and kind an admission request names."""
    return next((d for d in TENANTS if (d.served.group, d.served.kind) == (group, kind)), None)


def with_quota(
    tenant: Tenant, named: Mapping[str, TenantQuota], naming: Mapping[str, TenantQuota]
) -> tuple[Tenant, tuple[str, str] | None]:
    """The tenant with its quota: the one it names (`named`, by name), or those naming it (`naming`) combined.

    Also (reason, message) when it cannot be applied yet: it names a quota that does not exist.
    """
    if tenant.quota_name is not None:
        quota = named.get(tenant.quota_name)
        if quota is None:
            message = f'Quota "{tenant.quota_name}" does not exist: create it, or name an existing Quota in spec.quota'
            return tenant, ("QuotaNotFound", message)
        return dataclasses.replace(tenant, quota=quota), None
    combined = kiosk.combined_quota([q for q in naming.values() if q.tenant == tenant.name])
    return dataclasses.replace(tenant, quota=combined), None
