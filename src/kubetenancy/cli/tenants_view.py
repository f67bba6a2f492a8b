"""What `kubectl tenancy tenant …` shows, computed from what a user may read (pure: objects in, rows out).

A user's tenants are the owners of the Spaces they see and the Kiosk accounts they are a subject of;
their role is their tier in the tenant's own resource (owner, editor, viewer). A tenant's classes are its
allow-lists: "all" when it sets none, as MTO reads them. Nothing here reads or writes the cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from kubetenancy.frontdoors.kiosk import account_from_cr
from kubetenancy.frontdoors.tenantoperator import tenant_from_cr
from kubetenancy.model import Tenant
from kubetenancy.quantity import format_quantity, parse

Object = dict[str, Any]
TENANT_API = "tenantoperator.stakater.com/v1beta3"
ACCOUNT_API = "config.kiosk.sh/v1alpha1"
TENANCY_RESOURCES = {TENANT_API: "tenants", ACCOUNT_API: "accounts"}
CLASS_FIELDS = {
    "storageclasses": "storage_classes",
    "ingressclasses": "ingress_classes",
    "priorityclasses": "priority_classes",
}
ALL = None
"""An allow-list that allows every class."""


def model_of(resource: Object) -> Tenant:
    """The tenancy model of an MTO Tenant or a Kiosk Account as read from the API server."""
    name, spec = resource["metadata"]["name"], resource.get("spec") or {}
    if resource.get("kind") == "Account":
        return account_from_cr(name, spec, None)
    return tenant_from_cr(name, spec, None)


def namespaces_of(resource: Object) -> list[str]:
    """The namespaces the operator lists in the tenant's status (MTO: names; Kiosk: `{name: ...}`)."""
    listed = (resource.get("status") or {}).get("namespaces") or []
    return [item["name"] if isinstance(item, dict) else str(item) for item in listed]


def tenant_names(spaces: Iterable[Object], accounts: Iterable[Object], rules: Iterable[Object]) -> list[str]:
    """Every tenant owning a Space the user sees, every account listed for them, and every Tenant or
    Account their rules (a SelfSubjectRulesReview's `resourceRules`) let them get by name: members read their
    tenant by name, so a tenant without namespaces is listed too."""
    names = {space["spec"]["account"] for space in spaces if (space.get("spec") or {}).get("account")}
    names |= {account["metadata"]["name"] for account in accounts}
    for api in (TENANT_API, ACCOUNT_API):
        names |= _gettable_names(rules, api.partition("/")[0], TENANCY_RESOURCES[api])
    return sorted(names)


def _gettable_names(rules: Iterable[Object], group: str, resource: str) -> set[str]:
    def grants(rule: Object, key: str, wanted: str) -> bool:
        return bool({wanted, "*"} & set(rule.get(key) or ()))

    return {
        name
        for rule in rules
        if grants(rule, "apiGroups", group) and grants(rule, "resources", resource) and grants(rule, "verbs", "get")
        for name in rule.get("resourceNames") or ()
    }


def role_of(tenant: Tenant, user: str, groups: tuple[str, ...]) -> str:
    return tenant.tier_of(user, groups) or "-"


def allowed_classes(tenant: Tenant, resource: str) -> list[str] | None:
    """The names a tenant's allow-list for `resource` names; ALL (None) when it allows every class."""
    allowed = getattr(tenant.policy, CLASS_FIELDS[resource])
    names = sorted(name for name in allowed or () if name)
    return names if allowed else ALL


def quota_rows(quotas: Iterable[Object]) -> list[tuple[str, str, str, str]]:
    """QUOTA / RESOURCE / USED / LIMIT over the tenant's namespaces: each namespace's ResourceQuota carries
    the whole tenant limit, and the tenant's use is the sum of theirs."""
    hard: dict[tuple[str, str], str] = {}
    used: dict[tuple[str, str], Fraction] = {}
    for quota in quotas:
        name = ((quota["metadata"].get("annotations") or {}).get("kubetenancy.dev/quota")) or quota["metadata"]["name"]
        status: Mapping[str, Mapping[str, str]] = quota.get("status") or {}
        for resource, limit in ((quota.get("spec") or {}).get("hard") or {}).items():
            hard[(name, resource)] = str(limit)
            used[(name, resource)] = used.get((name, resource), Fraction(0)) + parse(
                (status.get("used") or {}).get(resource, "0")
            )
    return [
        (name, resource, format_quantity(used[(name, resource)]), limit)
        for (name, resource), limit in sorted(hard.items())
    ]


def table(headers: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    """Columns as kubectl prints them: left-aligned, three spaces apart, no borders."""
    lines = [headers, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join("   ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)
