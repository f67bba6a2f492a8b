"""What admission rules may consult: the operator's in-memory picture of tenants, quotas and settings.

The reconciler keeps it current; rules only read it. Lookups are dictionary reads, so a rule answers
without any API call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubetenancy.cloud.identity_index import IdentityIndex
from kubetenancy.model import ClusterPolicy, Tenant, TenantQuota


@dataclass
class TenancyView:
    policy: ClusterPolicy = field(default_factory=ClusterPolicy)
    tenants: dict[str, Tenant] = field(default_factory=dict)
    quotas: dict[str, TenantQuota] = field(default_factory=dict)
    """Every MTO Quota that exists, by name."""
    account_quotas: dict[str, tuple[str, TenantQuota]] = field(default_factory=dict)
    """Every Kiosk AccountQuota, by name: the account it limits and its limits."""
    kinds: dict[str, str] = field(default_factory=dict)
    """The kind (Tenant, Account) each tenant name belongs to."""
    labelled: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    """Per tenant, the namespaces labelled as its own, with their labels (from namespace events)."""
    initializing: set[str] = field(default_factory=set)
    """New namespaces whose members get access once their mandatory templates are deployed."""
    deployed: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per namespace, the template instances kubetenancy made there that are deployed."""
    aws: IdentityIndex = field(default_factory=IdentityIndex)
    """CAPA identities, the objects using them and every namespace's labels (where CAPA is installed)."""
    _namespace_owner: dict[str, str] = field(default_factory=dict)

    def put_tenant(self, tenant: Tenant) -> None:
        self.remove_tenant(tenant.name)
        self.tenants[tenant.name] = tenant
        for name in tenant.namespace_names():
            self._namespace_owner[name] = tenant.name

    def remove_tenant(self, name: str) -> None:
        self.tenants.pop(name, None)
        self._namespace_owner = {ns: t for ns, t in self._namespace_owner.items() if t != name}

    def tenant_of_namespace(self, namespace: str | None) -> Tenant | None:
        owner = self._namespace_owner.get(namespace or "")
        return self.tenants.get(owner) if owner else None

    def tenants_owned_by(self, user: str, groups: tuple[str, ...]) -> list[str]:
        return sorted(name for name, t in self.tenants.items() if t.tier_of(user, groups) == "owner")

    def tenants_using_quota(self, quota: str) -> list[str]:
        return sorted(name for name, t in self.tenants.items() if t.quota_name == quota)

    def namespace_claims(self) -> Mapping[str, str]:
        return dict(self._namespace_owner)
