"""The APIs whose objects are tenants, and the few things about each that the one reconciler needs.

An MTO Tenant and a Kiosk Account both become a `Tenant` through their front door; what differs is
where their quota comes from, which label claims a namespace for them, and the shape of the namespace
list in their status. Nothing else of the engine knows which API a tenant came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubetenancy.admission.view import TenancyView
from kubetenancy.frontdoors.kiosk import account_from_cr, combined_quota
from kubetenancy.frontdoors.tenantoperator import tenant_from_cr
from kubetenancy.model import Tenant

NotReady = tuple[str, str]
"""(reason, message) of a tenant that cannot be applied yet."""


@dataclass(frozen=True)
class TenantSource:
    api_version: str
    kind: str
    model: Callable[[str, dict[str, Any], TenancyView], tuple[Tenant, NotReady | None]]
    namespaces_status: Callable[[list[str]], list[Any]]
    """How the status lists the tenant's namespaces."""


def _mto_tenant(name: str, spec: dict[str, Any], view: TenancyView) -> tuple[Tenant, NotReady | None]:
    quota_name = spec.get("quota", "")
    quota = view.quotas.get(quota_name)
    tenant = tenant_from_cr(name, spec, quota)
    if quota is None:
        message = f'Quota "{quota_name}" does not exist: create it, or name an existing Quota in spec.quota'
        return tenant, ("QuotaNotFound", message)
    return tenant, None


def _kiosk_account(name: str, spec: dict[str, Any], view: TenancyView) -> tuple[Tenant, NotReady | None]:
    quotas = [quota for account, quota in view.account_quotas.values() if account == name]
    return account_from_cr(name, spec, combined_quota(quotas)), None


MTO_TENANTS = TenantSource(
    api_version="tenantoperator.stakater.com/v1beta3",
    kind="Tenant",
    model=_mto_tenant,
    namespaces_status=list,
)
KIOSK_ACCOUNTS = TenantSource(
    api_version="config.kiosk.sh/v1alpha1",
    kind="Account",
    model=_kiosk_account,
    namespaces_status=lambda names: [{"name": name} for name in names],
)
SOURCES = (MTO_TENANTS, KIOSK_ACCOUNTS)
