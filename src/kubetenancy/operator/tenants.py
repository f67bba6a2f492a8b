"""Reconcile tenants of every API (MTO Tenants, Kiosk Accounts): build the model through the API's front
door, apply the desired objects, report status.

An unchanged tenant costs no write: the hash of its desired objects is kept in its status and compared
first. Deleting a tenant needs no handler: what it owns carries an owner reference and the garbage
collector removes it (namespaces only when `onDeletePurgeNamespaces` asked for it).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any

from kubetenancy.admission.decision import Missing
from kubetenancy.desired import OwnerRef, content_hash, tenant_objects
from kubetenancy.desired.pod_security import with_current_levels
from kubetenancy.desired.tenant import relabelled_namespaces
from kubetenancy.frontdoors.table import (
    CR,
    MANDATORY_TEMPLATES,
    POLICIES,
    QUOTAS,
    TENANTS,
    QuotaDoor,
    TenantDoor,
    door_of,
    with_quota,
)
from kubetenancy.k8s import ApiError, Kube, applier
from kubetenancy.model import INITIALIZING, ClusterPolicy, Tenant, TenantNamespace
from kubetenancy.operator.probes import RECONCILES
from kubetenancy.operator.tenancy_index import TenancyIndex
from kubetenancy.operator.webhook_registration import WebhookRegistration
from kubetenancy.reconciling import FailedPass, Reconciler, status_writer

REPAIR = "repair"
"""A pass flag: a managed object was deleted; re-create what is missing even when nothing changed."""
TENANT_KINDS = (*applier.PRUNABLE, MANDATORY_TEMPLATES)
"""The kinds of a tenant's objects besides namespaces: watched for drift, pruned when no longer wanted."""


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

    Event-driven passes read nothing the events already carry: the tenant comes with its event, quotas and
    labelled namespaces from their own events into the index. Tenant names are unique across APIs
    (admission refuses a second tenant of the same name); each name's API is learnt from its events.
    """

    def __init__(
        self,
        kube: Kube,
        index: TenancyIndex,
        registration: WebhookRegistration,
        config_namespace: str,
        bypassed_groups: frozenset[str],
    ) -> None:
        self.kube = kube
        self.registration = registration
        self.index = index
        self.view = index.view
        self.config_namespace = config_namespace
        self.bypassed_groups = bypassed_groups
        self.identity = ""
        self.sources: dict[str, TenantDoor] = {}
        self.passes: Reconciler[str] = Reconciler("tenant", self._read, self._pass, status_writer(kube))

    async def start(self) -> None:
        """Learn who the operator is (it passes its own webhooks), the policy, the quotas and the labelled
        namespaces before any event is handled, so the first reconciles see the whole picture."""
        review = await self.kube.create({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        self.identity = review["status"]["userInfo"]["username"]
        await self.refresh_policy()
        for door in QUOTAS:
            for quota in await self.kube.list(door.served.api_version, door.served.kind):
                self.quota_seen(door, quota["metadata"]["name"], quota)
        for ns in await self.kube.list("v1", "Namespace"):
            self.index.namespace_seen(ns["metadata"]["name"], ns["metadata"].get("labels") or {}, deleted=False)

    async def refresh_policy(self) -> ClusterPolicy:
        policy = ClusterPolicy()
        for door in POLICIES:
            served = door.served
            config = await self.kube.get(served.api_version, served.kind, door.object_name, self.config_namespace)
            if config is not None:
                policy = door.read(config)
        policy = dataclasses.replace(
            policy,
            bypassed_groups=self.bypassed_groups,
            privileged_users=(*policy.privileged_users, re.escape(self.identity)),
        )
        self.index.set_policy(policy)
        return policy

    def forget(self, name: str) -> None:
        self.index.forget_tenant(name)
        self.sources.pop(name, None)
        self.passes.forget(name)

    def quota_seen(self, door: QuotaDoor, name: str, cr: CR | None) -> list[str]:
        """Record a quota (None: deleted); return the tenants whose limits changed."""
        quota = None if cr is None else door.read(cr)
        return self.index.quota_seen(name, quota, names_tenant=door.names_tenant)

    async def confirm(self, missing: Missing) -> bool:
        """Whether an object a rule found missing exists after all (created a moment ago: the view had not
        seen it yet); what is found is recorded."""
        door = door_of(missing.api_version, missing.kind)
        if not isinstance(door, QuotaDoor) or missing.name is None:
            return False
        found = await self.kube.get(missing.api_version, missing.kind, missing.name, missing.namespace)
        if found is None:
            return False
        self.quota_seen(door, missing.name, found)
        return True

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
            TenantNamespace(ns, labels=dict(labels), held=self._held(tenant, ns))
            for ns, labels in labelled.items()
            if ns not in known
        )

    async def reconcile(
        self,
        name: str,
        *,
        source: TenantDoor | None = None,
        body: dict[str, Any] | None = None,
        repair: bool = False,
    ) -> None:
        """Bring one tenant to its desired state; `body` is its custom resource as its event delivered it.

        Without `source` the tenant's API is the one its last event came from; a name no event has
        introduced yet is skipped (its own event follows).
        """
        if source is not None:
            self.sources[name] = source
        if name in self.sources:
            await self.passes.run(name, body, *([REPAIR] if repair else []))

    async def _read(self, name: str) -> dict[str, Any] | None:
        served = self.sources[name].served
        return await self.kube.get(served.api_version, served.kind, name)

    async def _pass(self, name: str, cr: dict[str, Any], flags: frozenset[str]) -> dict[str, Any] | None:
        source = self.sources[name]
        generation: int = cr["metadata"]["generation"]
        status: dict[str, Any] = cr.get("status") or {}
        tenant, not_ready = with_quota(source.read(cr), self.view.quotas, self.view.tenant_quotas)
        if not_ready is not None:
            self.index.put_tenant(tenant, source.served.qualified_kind)
            RECONCILES.labels("not-ready").inc()
            reason, message = not_ready
            return ready_status(status, generation, False, reason, message)
        tenant = dataclasses.replace(tenant, namespaces=tenant.namespaces + self._claimed_namespaces(tenant))
        tenant = with_current_levels(tenant, self.view.labelled.get(name, {}))
        self.index.put_tenant(tenant, source.served.qualified_kind)
        owner = OwnerRef(source.served.api_version, source.served.kind, name, cr["metadata"]["uid"])
        objects = tenant_objects(tenant, self.view.policy, owner)
        digest = content_hash(objects)
        if status.get("appliedHash") == digest and status.get("observedGeneration") == generation:
            if REPAIR in flags:
                await applier.repair(self.kube, name, objects, TENANT_KINDS, await self._existing(tenant))
            relabelled = relabelled_namespaces(objects, self.view.labelled.get(name, {}))
            if relabelled:
                await applier.apply_all(self.kube, relabelled)
            RECONCILES.labels("unchanged").inc()
            return None
        await self.registration.cover(tenant.quota)  # before its ResourceQuotas take effect
        # A tenant never applied and never changed has nothing to prune: skip the LISTs.
        first_apply = "appliedHash" not in status and generation == 1
        try:
            await applier.sync(self.kube, name, objects, TENANT_KINDS, prune=not first_apply)
        except ApiError as error:
            message = f"applying the tenant's objects failed: {error.status.message}"
            raise FailedPass(ready_status(status, generation, False, "ApplyFailed", message), error) from None
        for ns in tenant.namespaces:
            if ns.name in self.view.initializing and not ns.held:
                # Its templates are deployed and its members bound: the namespace is ready for them.
                await self.kube.patch("v1", "Namespace", ns.name, {"metadata": {"annotations": {INITIALIZING: None}}})
        namespaces = list(tenant.namespace_names())
        RECONCILES.labels("applied").inc()
        return ready_status(
            status, generation, True, "Reconciled", f"{len(namespaces)} namespace(s) ready",
            namespaces=source.namespaces_status(namespaces), appliedHash=digest,
        )  # fmt: skip

    async def _existing(self, tenant: Tenant) -> set[str]:
        names = set()
        for ns in tenant.namespace_names():
            if await self.kube.get("v1", "Namespace", ns) is not None:
                names.add(ns)
        return names

    async def all_tenants(self) -> list[tuple[TenantDoor, str]]:
        return [
            (door, t["metadata"]["name"])
            for door in TENANTS
            for t in await self.kube.list(door.served.api_version, door.served.kind)
        ]
