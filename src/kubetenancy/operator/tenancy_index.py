"""The one writer of the admission view: what the tenant engine learns from events goes in here.

The engine (the tenant reconciler and its event handlers) holds the index and updates it; the rules
get `index.view`, which they can only read. Each update says what it changed (which tenants need a
pass), so the engine asks for passes only when something moved. Pure bookkeeping: no I/O.
"""

from __future__ import annotations

from kubetenancy.admission.namespace_managed_labels import managed_label_changes
from kubetenancy.admission.view import TenancyView, ViewState
from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.model import ClusterPolicy, Tenant, TenantQuota


class TenancyIndex:
    def __init__(self) -> None:
        self._state = ViewState()
        self.view = TenancyView(self._state)
        """What rules (and readers of the engine's state) get: read-only."""
        self.aws = self._state.aws
        """The CAPA identity index, written by the CAPA engine's event handlers only."""

    def set_policy(self, policy: ClusterPolicy) -> None:
        self._state.policy = policy

    def put_tenant(self, tenant: Tenant, kind: str) -> None:
        """Record a tenant's model; `kind`: its qualified kind (tenant names are unique across kinds)."""
        self._drop_tenant(tenant.name)
        self._state.tenants[tenant.name] = tenant
        self._state.kinds[tenant.name] = kind
        for name in tenant.namespace_names():
            self._state.namespace_owner[name] = tenant.name

    def forget_tenant(self, name: str) -> None:
        self._drop_tenant(name)
        self._state.kinds.pop(name, None)

    def _drop_tenant(self, name: str) -> None:
        self._state.tenants.pop(name, None)
        owners = self._state.namespace_owner
        self._state.namespace_owner = {ns: t for ns, t in owners.items() if t != name}

    def quota_seen(self, name: str, quota: TenantQuota | None, *, names_tenant: bool) -> list[str]:
        """Record a quota (None: deleted); return the tenants whose limits changed. `names_tenant`: the
        quota names the tenant it limits (else tenants name it)."""
        known = self._state.tenant_quotas if names_tenant else self._state.quotas
        before = known.pop(name, None)
        if quota is not None:
            known[name] = quota
        if before == quota:
            return []
        if names_tenant:
            return sorted({q.tenant for q in (before, quota) if q is not None and q.tenant})
        return self.view.tenants_using_quota(name)

    def namespace_seen(self, name: str, labels: dict[str, str], *, deleted: bool) -> list[str]:
        """Record which tenant a namespace's labels claim it for; return the tenants whose set changed."""
        owner = None if deleted else namespace_owner(labels)
        claimed = {owner} if owner else set()
        changed = []
        for tenant, namespaces in self._state.labelled.items():
            if name in namespaces and tenant not in claimed:
                del namespaces[name]
                changed.append(tenant)
        changed = [t for t in changed if not self._owns_from_spec(t, name)]
        for tenant in claimed:
            namespaces = self._state.labelled.setdefault(tenant, {})
            before = namespaces.get(name)
            if before != labels:
                namespaces[name] = labels
                # Someone moved a label kubetenancy keeps (an admin loosened the Pod Security level): a pass
                # puts it back at once, as it does for any namespace the spec does not name.
                relabelled = before is not None and bool(managed_label_changes(before, labels))
                if relabelled or not self._owns_from_spec(tenant, name):
                    changed.append(tenant)
        return changed

    def _owns_from_spec(self, tenant: str, namespace: str) -> bool:
        """A namespace of the tenant's spec changes nothing when other labels move: the spec decides."""
        known = self._state.tenants.get(tenant)
        return known is not None and namespace in known.spec_namespaces

    def namespace_initializing(self, name: str, initializing: bool) -> bool:
        """Record whether a namespace still waits for its templates; True when that changed."""
        if initializing == (name in self._state.initializing):
            return False
        if initializing:
            self._state.initializing.add(name)
        else:
            self._state.initializing.discard(name)
        return True

    def template_instance_seen(self, namespace: str, name: str, deployed: bool) -> bool:
        """Record whether an instance of a tenant's templates is deployed; True when that changed."""
        before = self._state.deployed.get(namespace, frozenset())
        after = before | {name} if deployed else before - {name}
        self._state.deployed[namespace] = after
        return after != before
