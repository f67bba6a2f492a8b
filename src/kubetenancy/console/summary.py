"""What the console's pages show, computed from the objects the user could read. Pure.

Tenants come from MTO Tenants and Kiosk Accounts the user may read, and from the tenant labels of the
namespaces the user sees (a member who may not read the Tenant object still sees its name). Quota use is
summed over a tenant's namespaces from their ResourceQuota status, against the tenant-wide limit (each
namespace's quota carries the whole limit). Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.quantity import format_quantity, parse

Object = Mapping[str, Any]
BINARY_RESOURCES = ("memory", "storage", "ephemeral-storage")


def _labels(obj: Object) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _name(obj: Object) -> str:
    return str(obj["metadata"]["name"])


def show_quantity(resource: str, value: Fraction) -> str:
    """Memory-like values in binary units (8Gi), CPU in cores or millicores, counts as they are."""
    if any(resource.endswith(suffix) for suffix in BINARY_RESOURCES):
        for suffix, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if value >= size:
                scaled = value / size
                return f"{float(scaled):.3g}{suffix}" if scaled.denominator != 1 else f"{scaled.numerator}{suffix}"
    return format_quantity(value)


@dataclass(frozen=True)
class QuotaLine:
    resource: str
    used: Fraction
    hard: Fraction

    @property
    def percent(self) -> int:
        return 100 if self.hard == 0 else min(100, round(100 * self.used / self.hard))

    @property
    def used_text(self) -> str:
        return show_quantity(self.resource, self.used)

    @property
    def hard_text(self) -> str:
        return show_quantity(self.resource, self.hard)


def quota_lines(quotas: Iterable[Object]) -> list[QuotaLine]:
    """Used summed over the quotas, hard the largest limit seen (the tenant-wide one), per resource."""
    used: dict[str, Fraction] = {}
    hard: dict[str, Fraction] = {}
    for quota in quotas:
        status = quota.get("status") or {}
        for resource, value in (status.get("hard") or (quota.get("spec") or {}).get("hard") or {}).items():
            hard[resource] = max(hard.get(resource, Fraction(0)), parse(value))
        for resource, value in (status.get("used") or {}).items():
            used[resource] = used.get(resource, Fraction(0)) + parse(value)
    return [QuotaLine(resource, used.get(resource, Fraction(0)), hard[resource]) for resource in sorted(hard)]


@dataclass
class TenantSummary:
    name: str
    kind: str
    """"Tenant" (MTO), "Account" (Kiosk) or "" (known only from namespace labels)."""
    namespaces: list[str] = field(default_factory=list)
    quota: list[QuotaLine] = field(default_factory=list)
    ready: str = "Unknown"
    reason: str = ""
    message: str = ""
    body: Object | None = None

    @property
    def failing(self) -> bool:
        return self.ready == "False"


def _ready(obj: Object) -> tuple[str, str, str]:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status", "Unknown"), condition.get("reason", ""), condition.get("message", "")
    return "Unknown", "", ""


def tenant_summaries(
    tenants: Sequence[Object], accounts: Sequence[Object], namespaces: Sequence[Object], quotas: Sequence[Object]
) -> list[TenantSummary]:
    """One summary per tenant the user can see, sorted by name."""
    found: dict[str, TenantSummary] = {}
    for kind, objects in (("Tenant", tenants), ("Account", accounts)):
        for obj in objects:
            ready, reason, message = _ready(obj)
            found[_name(obj)] = TenantSummary(_name(obj), kind, ready=ready, reason=reason, message=message, body=obj)
    for namespace in namespaces:
        owner = namespace_owner(_labels(namespace))
        if owner:
            found.setdefault(owner, TenantSummary(owner, "")).namespaces.append(_name(namespace))
    by_namespace: dict[str, list[Object]] = {}
    for quota in quotas:
        by_namespace.setdefault(quota["metadata"].get("namespace", ""), []).append(quota)
    for summary in found.values():
        summary.namespaces.sort()
        summary.quota = quota_lines(q for ns in summary.namespaces for q in by_namespace.get(ns, []))
    return [found[name] for name in sorted(found)]


@dataclass(frozen=True)
class InstanceRow:
    api: str
    namespace: str
    name: str
    template: str
    status: str
    reason: str
    message: str

    @property
    def failing(self) -> bool:
        return self.status == "Failed"


def instance_rows(api: str, instances: Iterable[Object]) -> list[InstanceRow]:
    rows = []
    for obj in instances:
        status = obj.get("status") or {}
        rows.append(
            InstanceRow(
                api,
                obj["metadata"].get("namespace", ""),
                _name(obj),
                str((obj.get("spec") or {}).get("template", "")),
                str(status.get("status", "Pending")),
                str(status.get("reason", "")),
                str(status.get("message", "")),
            )
        )
    return sorted(rows, key=lambda r: (r.namespace, r.name, r.api))


def members(tenant: Object) -> dict[str, dict[str, list[str]]]:
    """Owners, editors and viewers of an MTO Tenant (users and groups), or an Account's subjects as owners."""
    spec = tenant.get("spec") or {}
    if "accessControl" in spec:
        control = spec.get("accessControl") or {}
        return {
            tier: {
                "users": list((control.get(tier) or {}).get("users") or []),
                "groups": list((control.get(tier) or {}).get("groups") or []),
            }
            for tier in ("owners", "editors", "viewers")
        }
    subjects = spec.get("subjects") or []
    return {
        "owners": {
            "users": [s["name"] for s in subjects if s.get("kind") in ("User", "ServiceAccount")],
            "groups": [s["name"] for s in subjects if s.get("kind") == "Group"],
        }
    }
