"""The tenant-wide quota: per tenant, what each namespace uses plus what admitted objects reserved.

Two webhooks feed it, both under one lock per tenant:

- `reserve` judges each new quota-counted object on its own (so parallel creates are admitted exactly up
  to the limit) and reserves its usage;
- `settle` sees the ResourceQuota status updates Kubernetes' quota admission makes, records the
  namespace's usage, releases the reservations that usage now includes, and refuses an update that would
  take the recorded total over the limit (a backstop for objects that bypassed `reserve`).

Usage is learnt from status updates (and one listing at start), never from a watch: a watch event can be
older than what was already admitted.

A reservation only stands for an object the API server is about to create: Kubernetes' quota admission
counts it a moment after `reserve` answers, and `settle` then releases it. One never counted (the object
failed later in the chain, or the review was made up by a caller that is not the API server) expires after
`RESERVATION_SECONDS`, which bounds what a forged review can hold. Expiring a real reservation early can
not over-admit: `settle` refuses the status update that would take the tenant over its limit.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from kubetenancy.admission import Decision, Request
from kubetenancy.admission.object_usage import Usage, usage_of
from kubetenancy.admission.tenant_quota_usage import within_tenant_quota
from kubetenancy.admission.view import TenancyView
from kubetenancy.k8s import Kube
from kubetenancy.model import MANAGED_BY, TENANT_LABEL
from kubetenancy.operator.probes import RESERVATIONS_HELD
from kubetenancy.quantity import parse

QUOTA_ADMISSION_USER = "system:apiserver"
RESERVATION_SECONDS = 5.0
"""How long a reservation not yet counted holds room; real ones are counted much sooner (the histogram
`kubetenancy_quota_reservation_seconds{outcome="counted"}`)."""


@dataclass
class Reservation:
    namespace: str
    usage: Usage
    at: float


def _parsed(used: dict[str, str]) -> Usage:
    return {k: parse(v) for k, v in used.items()}


def _total(parts: list[Usage]) -> Usage:
    total: Usage = {}
    for part in parts:
        for resource, amount in part.items():
            total[resource] = total.get(resource, Fraction(0)) + amount
    return total


class QuotaLedger:
    def __init__(self, view: TenancyView, clock: Callable[[], float] = time.monotonic) -> None:
        self.view = view
        self._clock = clock
        self.recorded: defaultdict[str, dict[str, Usage]] = defaultdict(dict)
        self.reserved: defaultdict[str, list[Reservation]] = defaultdict(list)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def load(self, kube: Kube) -> None:
        for quota in await kube.list("v1", "ResourceQuota", labels=dict(MANAGED_BY)):
            tenant = quota["metadata"]["labels"].get(TENANT_LABEL)
            if tenant:
                used = (quota.get("status") or {}).get("used") or {}
                self.recorded[tenant][quota["metadata"]["namespace"]] = _parsed(used)

    def _in_use(self, tenant: str) -> Usage:
        now = self._clock()
        held = []
        for reservation in self.reserved[tenant]:
            if now - reservation.at < RESERVATION_SECONDS:
                held.append(reservation)
            else:
                RESERVATIONS_HELD.labels("expired").observe(RESERVATION_SECONDS)
        self.reserved[tenant] = held
        return _total([*self.recorded[tenant].values(), *(r.usage for r in self.reserved[tenant])])

    async def reserve(self, request: Request) -> Decision:
        tenant = self.view.tenant_of_namespace(request.namespace)
        if request.operation != "CREATE" or tenant is None or tenant.quota is None:
            return Decision.allow()
        usage = usage_of(request.kind, request.resource, request.group, request.obj)
        usage = {k: v for k, v in usage.items() if k in tenant.quota.hard}
        if not usage:
            return Decision.allow()
        async with self._locks[tenant.name]:
            decision = within_tenant_quota(
                tenant.name,
                tenant.quota.name,
                tenant.quota.hard,
                self._in_use(tenant.name),
                usage,
                namespaces=len(tenant.namespaces),
            )
            if decision.allowed and not request.dry_run:
                self.reserved[tenant.name].append(Reservation(request.namespace or "", usage, self._clock()))
        return decision

    async def settle(self, request: Request) -> Decision:
        tenant_name = request.labels.get(TENANT_LABEL, "")
        namespace = request.namespace or ""
        new = _parsed((request.obj.get("status") or {}).get("used") or {})
        async with self._locks[tenant_name]:
            tenant = self.view.tenants.get(tenant_name)
            before = self.recorded[tenant_name].get(namespace) or _parsed(
                (request.old.get("status") or {}).get("used") or {}
            )
            increase = {k: v - before.get(k, Fraction(0)) for k, v in new.items() if v > before.get(k, Fraction(0))}
            self._release(tenant_name, namespace, increase)
            decision = Decision.allow()
            if request.user == QUOTA_ADMISSION_USER and tenant is not None and tenant.quota is not None:
                others = _total([u for ns, u in self.recorded[tenant_name].items() if ns != namespace])
                in_use = {k: others.get(k, Fraction(0)) + before.get(k, Fraction(0)) for k in new}
                decision = within_tenant_quota(
                    tenant_name,
                    tenant.quota.name,
                    tenant.quota.hard,
                    in_use,
                    increase,
                    namespaces=len(tenant.namespaces),
                )
            if decision.allowed:
                self.recorded[tenant_name][namespace] = new
            return decision

    def _release(self, tenant: str, namespace: str, increase: Usage) -> None:
        """Drop the oldest reservations of `namespace` that the recorded increase now accounts for."""
        left = dict(increase)
        kept = []
        for reservation in self.reserved[tenant]:
            covered = reservation.namespace == namespace and all(
                left.get(k, Fraction(0)) >= v for k, v in reservation.usage.items()
            )
            if covered:
                for k, v in reservation.usage.items():
                    left[k] = left.get(k, Fraction(0)) - v
                RESERVATIONS_HELD.labels("counted").observe(self._clock() - reservation.at)
            else:
                kept.append(reservation)
        self.reserved[tenant] = kept
