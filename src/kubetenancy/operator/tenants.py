"""Reconcile tenants of every API (MTO Tenants, Kiosk Accounts): build the model through the API's front
door, apply the desired objects, report status.

An unchanged tenant costs no write: the hash of its desired objects is kept in its status and compared
first. Deleting a tenant needs no handler: what it owns carries an owner reference and the garbage
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
from kubetenancy.desired.pod_security import with_current_levels
from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.frontdoors.kiosk import account_quota_from_cr
from kubetenancy.frontdoors.tenantoperator import cluster_policy, quota_from_cr
from kubetenancy.k8s import RETRYABLE_ERRORS, ApiError, Kube, applier
from kubetenancy.model import INITIALIZING, ClusterPolicy, Tenant, TenantNamespace
from kubetenancy.operator.probes import RECONCILES
from kubetenancy.operator.tenant_sources import SOURCES, TenantSource

QUOTA_API = "tenantoperator.stakater.com/v1beta1"
CONFIG_API = "tenantoperator.stakater.com/v1beta1"
CONFIG_NAME = "tenant-operator-config"
ACCOUNT_QUOTA_API = "config.kiosk.sh/v1alpha1"
RECONCILE_ATTEMPTS = 4

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
    """Reconciles tenants and keeps the admission view (tenants, quotas, policy, namespaces) current.

    Event-driven reconciles read nothing the events already carry: the tenant comes with its event,
    quotas and labelled namespaces from their own events into the view. Tenant names are unique across
    APIs (admission refuses a second tenant of the same name); each name's API is learnt from its events.
    """

    def __init__(self, kube: Kube, view: TenancyView, config_namespace: str, bypassed_groups: frozenset[str]) -> None:
        self.kube = kube
        self.view = view
        self.config_namespace = config_namespace
        self.bypassed_groups = bypassed_groups
        self.identity = ""
        self.sources: dict[str, TenantSource] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._status_writes: defaultdict[str, int] = defaultdict(int)

    async def start(self) -> None:
        """Learn who the operator is (it passes its own webhooks), the policy, the quotas and the labelled
        namespaces before any event is handled, so the first reconciles see the whole picture."""
        review = await self.kube.create({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        self.identity = review["status"]["userInfo"]["username"]
        await self.refresh_policy()
        for quota in await self.kube.list(QUOTA_API, "Quota"):
            self.quota_seen(quota["metadata"]["name"], quota.get("spec") or {})
        for quota in await self.kube.list(ACCOUNT_QUOTA_API, "AccountQuota"):
            self.account_quota_seen(quota["metadata"]["name"], quota.get("spec") or {})
        for ns in await self.kube.list("v1", "Namespace"):
            self.namespace_seen(ns["metadata"]["name"], ns["metadata"].get("labels") or {}, deleted=False)

    async def refresh_policy(self) -> ClusterPolicy:
        config = await self.kube.get(CONFIG_API, "IntegrationConfig", CONFIG_NAME, self.config_namespace)
        policy = cluster_policy(config.get("spec") if config else None, self.bypassed_groups)
        policy = dataclasses.replace(policy, privileged_users=(*policy.privileged_users, re.escape(self.identity)))
        self.view.policy = policy
        return policy

    def forget(self, name: str) -> None:
        self.view.remove_tenant(name)
        self.view.kinds.pop(name, None)
        self.sources.pop(name, None)

    def quota_seen(self, name: str, spec: dict[str, Any] | None) -> bool:
        """Record a Quota (None: deleted); True when its tenants need reconciling."""
        if spec is None:
            return self.view.quotas.pop(name, None) is not None
        quota = quota_from_cr(name, spec)
        changed = self.view.quotas.get(name) != quota
        self.view.quotas[name] = quota
        return changed

    def account_quota_seen(self, name: str, spec: dict[str, Any] | None) -> list[str]:
        """Record an AccountQuota (None: deleted); return the accounts whose limits changed."""
        before = self.view.account_quotas.pop(name, None)
        if spec is not None:
            self.view.account_quotas[name] = account_quota_from_cr(name, spec)
        after = self.view.account_quotas.get(name)
        if before == after:
            return []
        return sorted({known[0] for known in (before, after) if known is not None})

    def namespace_seen(self, name: str, labels: dict[str, str], *, deleted: bool) -> list[str]:
        """Record which tenant a namespace's labels claim it for; return the tenants whose set changed."""
        owner = None if deleted else namespace_owner(labels)
        claimed = {owner} if owner else set()
        changed = []
        for tenant, namespaces in self.view.labelled.items():
            if name in namespaces and tenant not in claimed:
                del namespaces[name]
                changed.append(tenant)
        for tenant in claimed:
            namespaces = self.view.labelled.setdefault(tenant, {})
            if namespaces.get(name) != labels:
                namespaces[name] = labels
                changed.append(tenant)
        return [t for t in changed if not self._owns_from_spec(t, name)]

    def _owns_from_spec(self, tenant: str, namespace: str) -> bool:
        """A namespace of the tenant's spec changes nothing when its labels move: the spec decides."""
        known = self.view.tenants.get(tenant)
        return known is not None and namespace in known.spec_namespaces

    def namespace_initializing(self, name: str, initializing: bool) -> bool:
        """Record whether a namespace still waits for its templates; True when that changed."""
        if initializing == (name in self.view.initializing):
            return False
        if initializing:
            self.view.initializing.add(name)
        else:
            self.view.initializing.discard(name)
        return True

    def template_instance_seen(self, namespace: str, name: str, deployed: bool) -> bool:
        """Record whether an instance of a tenant's templates is deployed; True when that changed."""
        before = self.view.deployed.get(namespace, frozenset())
        after = before | {name} if deployed else before - {name}
        self.view.deployed[namespace] = after
        return after != before

    def _held(self, tenant: Tenant, namespace: str) -> bool:
        """A new namespace waits for every mandatory template before its members get access."""
        if namespace not in self.view.initializing:
            return False
        wanted = {template.name for template in tenant.templates}
        return not wanted <= self.view.deployed.get(namespace, frozenset())

    def _claimed_namespaces(self, tenant: Tenant) -> tuple[TenantNamespace, ...]:
        """Namespaces labelled as the tenant's but not in its spec (made by owners, or kept after removal)."""
        known = set(tenant.namespace_names())
        labelled = self.view.labelled.get(tenant.name, {})
        return tuple(
            TenantNamespace(ns, labels=labels, held=self._held(tenant, ns))
            for ns, labels in labelled.items()
            if ns not in known
        )

    async def reconcile(
        self,
        name: str,
        *,
        source: TenantSource | None = None,
        body: dict[str, Any] | None = None,
        repair: bool = False,
    ) -> None:
        """Bring one tenant to its desired state; `body` is its custom resource as its event delivered it.

        Without `source` the tenant's API is the one its last event came from; a name no event has
        introduced yet is skipped (its own event follows). kopf does not retry event handlers, so
        transient API errors are retried here (with backoff).
        """
        if source is not None:
            self.sources[name] = source
        known = self.sources.get(name)
        if known is None:
            return
        for attempt in range(RECONCILE_ATTEMPTS):
            writes_before = self._status_writes[name]
            async with self._locks[name]:
                try:
                    if body is None or self._status_writes[name] != writes_before:
                        body = await self.kube.get(known.api_version, known.kind, name)  # changed since: read again
                    if body is not None and not body["metadata"].get("deletionTimestamp"):
                        await self._reconcile(known, body, repair=repair)
                    return
                except RETRYABLE_ERRORS as error:
                    if attempt == RECONCILE_ATTEMPTS - 1:
                        raise
                    log.warning("reconciling %s %s failed (%s); retrying", known.kind, name, error)
                    body = None
            await asyncio.sleep(2**attempt)

    async def _reconcile(self, source: TenantSource, cr: dict[str, Any], *, repair: bool) -> None:
        name = cr["metadata"]["name"]
        generation: int = cr["metadata"]["generation"]
        status: dict[str, Any] = cr.get("status") or {}
        tenant, not_ready = source.model(name, cr.get("spec") or {}, self.view)
        self.view.kinds[name] = source.kind
        if not_ready is not None:
            self.view.put_tenant(tenant)
            reason, message = not_ready
            await self._write_status(source, cr, ready_status(status, generation, False, reason, message))
            RECONCILES.labels("not-ready").inc()
            return
        tenant = dataclasses.replace(tenant, namespaces=tenant.namespaces + self._claimed_namespaces(tenant))
        tenant = with_current_levels(tenant, self.view.labelled.get(name, {}))
        self.view.put_tenant(tenant)
        owner = OwnerRef(source.api_version, source.kind, name, cr["metadata"]["uid"])
        objects = tenant_objects(tenant, self.view.policy, owner)
        digest = content_hash(objects)
        if status.get("appliedHash") == digest and status.get("observedGeneration") == generation:
            if repair:
                await applier.repair(self.kube, name, objects, await self._existing(tenant))
            RECONCILES.labels("unchanged").inc()
            return
        # A tenant never applied and never changed has nothing to prune: skip the LISTs.
        first_apply = "appliedHash" not in status and generation == 1
        try:
            await applier.sync(self.kube, name, objects, prune=not first_apply)
        except ApiError as error:
            message = f"applying the tenant's objects failed: {error.status.message}"
            await self._write_status(source, cr, ready_status(status, generation, False, "ApplyFailed", message))
            raise
        for ns in tenant.namespaces:
            if ns.name in self.view.initializing and not ns.held:
                # Its templates are deployed and its members bound: the namespace is ready for them.
                await self.kube.patch("v1", "Namespace", ns.name, {"metadata": {"annotations": {INITIALIZING: None}}})
        namespaces = list(tenant.namespace_names())
        next_status = ready_status(
            status, generation, True, "Reconciled", f"{len(namespaces)} namespace(s) ready",
            namespaces=source.namespaces_status(namespaces), appliedHash=digest,
        )  # fmt: skip
        await self._write_status(source, cr, next_status)
        RECONCILES.labels("applied").inc()

    async def _existing(self, tenant: Tenant) -> set[str]:
        names = set()
        for ns in tenant.namespace_names():
            if await self.kube.get("v1", "Namespace", ns) is not None:
                names.add(ns)
        return names

    async def _write_status(self, source: TenantSource, cr: dict[str, Any], status: dict[str, Any]) -> None:
        if status != (cr.get("status") or {}):
            await self.kube.patch_status(source.api_version, source.kind, cr["metadata"]["name"], status)
            self._status_writes[cr["metadata"]["name"]] += 1

    async def all_tenants(self) -> list[tuple[TenantSource, str]]:
        return [
            (source, t["metadata"]["name"])
            for source in SOURCES
            for t in await self.kube.list(source.api_version, source.kind)
        ]
