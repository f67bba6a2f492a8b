"""Who sees which Space and Account: pure decisions over the tenancy model.

A caller sees a namespace as a Space when they belong to the tenant that owns it — a Kiosk account's
subject or a member of an MTO tenant (a private sandbox only its own user) — and sees an Account when
they are among its subjects. Whoever may list all namespaces (or all config Accounts) sees everything;
that check is the API server's (a SubjectAccessReview), made once per request by the caller of these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.model import Tenant


@dataclass(frozen=True)
class Caller:
    user: str
    groups: tuple[str, ...]


def sees_namespace(caller: Caller, name: str, labels: dict[str, str], tenants: Mapping[str, Tenant]) -> bool:
    owner = namespace_owner(labels)
    tenant = tenants.get(owner) if owner else None
    if tenant is None or tenant.tier_of(caller.user, caller.groups) is None:
        return False
    private_to = next((ns.private_to for ns in tenant.namespaces if ns.name == name), None)
    return private_to is None or private_to == caller.user


def sees_tenant(caller: Caller, tenant: Tenant | None) -> bool:
    return tenant is not None and tenant.tier_of(caller.user, caller.groups) is not None
