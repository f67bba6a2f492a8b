"""Reconcile MTO Tenants: fetch the CRs, build the model, apply the desired objects, report status.

An unchanged tenant costs no write: the hash of its desired objects is kept in its status and compared
first. Deleting a Tenant needs no handler: what it owns carries an owner reference and the garbage
collector removes it (namespaces only when `onDeletePurgeNamespaces` asked for it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import re
from collections import defaultdict
from typing import Any

from kubetenancy.admission.view import TenancyView
from kubetenancy.desired import OwnerRef, content_hash, tenant_objects
from kubetenancy.frontdoors.tenantoperator import (
    MTO_TENANT_LABEL,
    cluster_policy,
    quota_from_cr,
    tenant_from_cr,
)
from kubetenancy.k8s import ApiError, Kube, applier
from kubetenancy.model import TENANT_LABEL, ClusterPolicy, Tenant, TenantNamespace
from kubetenancy.operator.probes import RECONCILES

TENANT_API = "tenantoperator.stakater.com/v1beta3"
QUOTA_API = "tenantoperator.stakater.com/v1beta1"
CONFIG_API = "tenantoperator.stakater.com/v1beta1"
CONFIG_NAME = "tenant-operator-config"

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ready_status(
    current: dict[str, Any], generation: int, ready: bool, reason: str, message: str, **extra: Any
) -> dict[str, Any]:
    """The Tenant's next status; the transition time moves only when Ready's status or reason changes."""
    previous: dict[str, Any] = next((c for c in current.get("conditions", []) if c.get("type") == "Ready"), {})
    status = "True" if ready else "False"
    changed = previous.get("status") != status or previous.get("reason") != reason
    condition = {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": _now() if changed else previous.get("lastTransitionTime", _now()),
    }
    return {**current, **extra, "conditions": [condition], "observedGeneration": generation}


class TenantReconciler:
    """Reconciles tenants and keeps the admission view (tenants, quotas, policy) current."""

    def __init__(self, kube: Kube, view: TenancyView, config_namespace: str, bypassed_groups: frozenset[str]) -> None:
        self.kube = kube
        self.view = view
        self.config_namespace = config_namespace
        self.bypassed_groups = bypassed_groups
        self.identity = ""
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def start(self) -> None:
        """Learn who the operator is (it passes its own webhooks) and read the cluster policy."""
        review = await self.kube.create({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        self.identity = review["status"]["userInfo"]["username"]
        await self.refresh_policy()

    async def refresh_policy(self) -> ClusterPolicy:
        config = await self.kube.get(CONFIG_API, "IntegrationConfig", CONFIG_NAME, self.config_namespace)
        policy = cluster_policy(config.get("spec") if config else None, self.bypassed_groups)
        policy = dataclasses.replace(policy, privileged_users=(*policy.privileged_users, re.escape(self.identity)))
        self.view.policy = policy
        return policy

    def forget(self, name: str) -> None:
        self.view.remove_tenant(name)

    def quota_seen(self, name: str, *, exists: bool) -> None:
        if exists:
            self.view.quotas.add(name)
        else:
            self.view.quotas.discard(name)

    async def _claimed_namespaces(self, tenant: Tenant) -> tuple[TenantNamespace, ...]:
        """Namespaces labelled as the tenant's but not in its spec (made by owners, or kept after removal)."""
        known = set(tenant.namespace_names())
        extra: dict[str, TenantNamespace] = {}
        for label in (TENANT_LABEL, MTO_TENANT_LABEL):
            for ns in await self.kube.list("v1", "Namespace", labels={label: tenant.name}):
                name = ns["metadata"]["name"]
                if name not in known and not ns["metadata"].get("deletionTimestamp"):
                    extra[name] = TenantNamespace(name, labels=ns["metadata"].get("labels", {}))
        return tuple(extra.values())

    async def reconcile(self, name: str, *, repair: bool = False) -> None:
        async with self._locks[name]:
            await self._reconcile(name, repair=repair)

    async def _reconcile(self, name: str, *, repair: bool) -> None:
        cr = await self.kube.get(TENANT_API, "Tenant", name)
        if cr is None or cr["metadata"].get("deletionTimestamp"):
            return
        generation: int = cr["metadata"]["generation"]
        status: dict[str, Any] = cr.get("status") or {}
        quota_name = cr["spec"].get("quota", "")
        quota_cr = await self.kube.get(QUOTA_API, "Quota", quota_name) if quota_name else None
        quota = quota_from_cr(quota_name, quota_cr.get("spec") or {}) if quota_cr else None
        tenant = tenant_from_cr(name, cr["spec"], quota)
        self.view.put_tenant(tenant)
        if quota is None:
            message = f'Quota "{quota_name}" does not exist: create it, or name an existing Quota in spec.quota'
            await self._write_status(cr, ready_status(status, generation, False, "QuotaNotFound", message))
            RECONCILES.labels("not-ready").inc()
            return
        claimed = await self._claimed_namespaces(tenant)
        tenant = dataclasses.replace(tenant, namespaces=tenant.namespaces + claimed)
        self.view.put_tenant(tenant)
        owner = OwnerRef(TENANT_API, "Tenant", name, cr["metadata"]["uid"])
        objects = tenant_objects(tenant, self.view.policy, owner)
        digest = content_hash(objects)
        if status.get("appliedHash") == digest and status.get("observedGeneration") == generation:
            if repair:
                await applier.repair(self.kube, name, objects, await self._existing(tenant))
            RECONCILES.labels("unchanged").inc()
            return
        try:
            await applier.sync(self.kube, name, objects)
        except ApiError as error:
            message = f"applying the tenant's objects failed: {error.status.message}"
            await self._write_status(cr, ready_status(status, generation, False, "ApplyFailed", message))
            raise
        namespaces = list(tenant.namespace_names())
        next_status = ready_status(
            status, generation, True, "Reconciled", f"{len(namespaces)} namespace(s) ready",
            namespaces=namespaces, appliedHash=digest,
        )  # fmt: skip
        await self._write_status(cr, next_status)
        RECONCILES.labels("applied").inc()

    async def _existing(self, tenant: Tenant) -> set[str]:
        names = set()
        for ns in tenant.namespace_names():
            if await self.kube.get("v1", "Namespace", ns) is not None:
                names.add(ns)
        return names

    async def _write_status(self, cr: dict[str, Any], status: dict[str, Any]) -> None:
        if status != (cr.get("status") or {}):
            await self.kube.patch_status(TENANT_API, "Tenant", cr["metadata"]["name"], status)

    async def tenants_using_quota(self, quota: str) -> list[str]:
        tenants = await self.kube.list(TENANT_API, "Tenant")
        return [t["metadata"]["name"] for t in tenants if t.get("spec", {}).get("quota") == quota]

    async def all_tenants(self) -> list[str]:
        return [t["metadata"]["name"] for t in await self.kube.list(TENANT_API, "Tenant")]
