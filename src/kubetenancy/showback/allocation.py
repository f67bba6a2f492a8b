"""What each tenant and namespace costs, as OpenCost allocates it: resource-hours times a price list. Pure.

The resource-hours come from Prometheus (`queries.py`): per container, max(request, usage) integrated over
the window for CPU and memory, the requested GPUs, and the requested size of each PersistentVolumeClaim.
Here they are priced and rolled up: per namespace, per tenant (by who holds the namespace), the namespaces
of no tenant apart ("unattributed"), and the capacity of the nodes nobody was allocated ("idle"), so that
tenants + unattributed + idle is the total, exactly. Idle is never negative: when sampling puts the
allocation a moment above the capacity, the total is the allocation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

from kubetenancy.component_model import PriceList


@dataclass(frozen=True)
class ResourceHours:
    cpu_core_hours: float = 0.0
    ram_gib_hours: float = 0.0
    gpu_hours: float = 0.0
    storage_gib_hours: float = 0.0

    def __add__(self, other: ResourceHours) -> ResourceHours:
        return ResourceHours(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def priced(self, prices: PriceList) -> Cost:
        return Cost(
            self.cpu_core_hours * prices.cpu,
            self.ram_gib_hours * prices.ram,
            self.gpu_hours * prices.gpu,
            self.storage_gib_hours * prices.storage,
        )


def total_hours(parts: Iterable[ResourceHours]) -> ResourceHours:
    total = ResourceHours()
    for part in parts:
        total += part
    return total


@dataclass(frozen=True)
class Cost:
    cpu: float = 0.0
    ram: float = 0.0
    gpu: float = 0.0
    storage: float = 0.0

    @property
    def total(self) -> float:
        return self.cpu + self.ram + self.gpu + self.storage


@dataclass(frozen=True)
class Line:
    """One row: a namespace (with its tenant, or none), a tenant (all its namespaces), or a remainder."""

    name: str
    tenant: str
    hours: ResourceHours
    cost: Cost


UNATTRIBUTED = "(unattributed)"
IDLE = "(idle)"


@dataclass(frozen=True)
class Showback:
    namespaces: tuple[Line, ...]
    """Every namespace that was allocated something, with the tenant that holds it ("" for none)."""
    tenants: tuple[Line, ...]
    unattributed: Line
    """Namespaces of no tenant (system namespaces, namespaces nobody claimed)."""
    idle: Line
    """The nodes' CPU and memory that no container was allocated."""

    @property
    def total(self) -> Cost:
        parts = [*(t.cost for t in self.tenants), self.unattributed.cost, self.idle.cost]
        return Cost(*(sum(getattr(p, f.name) for p in parts) for f in fields(Cost)))


def _line(name: str, tenant: str, hours: ResourceHours, prices: PriceList) -> Line:
    return Line(name, tenant, hours, hours.priced(prices))


def showback(
    allocated: Mapping[str, ResourceHours],
    capacity: ResourceHours,
    owners: Mapping[str, str],
    prices: PriceList,
) -> Showback:
    """`allocated`: resource-hours per namespace; `capacity`: the nodes' CPU core-hours and memory GiB-hours
    over the window; `owners`: the tenant that holds each tenant namespace."""
    namespaces = tuple(
        _line(namespace, owners.get(namespace, ""), hours, prices) for namespace, hours in sorted(allocated.items())
    )
    by_tenant: dict[str, list[ResourceHours]] = {}
    for line in namespaces:
        by_tenant.setdefault(line.tenant, []).append(line.hours)
    tenants = tuple(_line(t, t, total_hours(h), prices) for t, h in sorted(by_tenant.items()) if t)
    everything = total_hours(allocated.values())
    idle = ResourceHours(
        cpu_core_hours=max(0.0, capacity.cpu_core_hours - everything.cpu_core_hours),
        ram_gib_hours=max(0.0, capacity.ram_gib_hours - everything.ram_gib_hours),
    )
    return Showback(
        namespaces,
        tenants,
        _line(UNATTRIBUTED, "", total_hours(by_tenant.get("", [])), prices),
        _line(IDLE, "", idle, prices),
    )


def narrowed(report: Showback, tenants: Iterable[str]) -> Showback:
    """Only these tenants and their namespaces: what a tenant member may see (no remainders, no idle)."""
    keep = set(tenants)
    nothing = ResourceHours()
    return Showback(
        tuple(line for line in report.namespaces if line.tenant in keep),
        tuple(line for line in report.tenants if line.tenant in keep),
        Line(UNATTRIBUTED, "", nothing, Cost()),
        Line(IDLE, "", nothing, Cost()),
    )
