"""What admission rules may consult: the operator's in-memory picture of tenants, quotas and settings.

Read-only: every field is a read-only mapping or set, and nothing here changes it. The one writer is
`operator.tenancy_index.TenancyIndex`, which the tenant engine updates from the events it handles (as
kopf hands its indices to handlers read-only and only its indexing engine writes them: a view that rules
could write would make each rule a possible writer to reason about). Lookups are dictionary reads, so a
rule answers without any API call.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from types import MappingProxyType

from kubetenancy.cloud.identity_index import IdentityIndex
from kubetenancy.model import ClusterPolicy, Tenant, TenantQuota


@dataclass
class ViewState:
    """The mutable state behind a view; only the index that made it changes it."""

    policy: ClusterPolicy = field(default_factory=ClusterPolicy)
    tenants: dict[str, Tenant] = field(default_factory=dict)
    quotas: dict[str, TenantQuota] = field(default_factory=dict)
    tenant_quotas: dict[str, TenantQuota] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    labelled: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    initializing: set[str] = field(default_factory=set)
    deployed: dict[str, frozenset[str]] = field(default_factory=dict)
    namespace_owner: dict[str, str] = field(default_factory=dict)
    aws: IdentityIndex = field(default_factory=IdentityIndex)


class TenancyView:
    def __init__(self, state: ViewState | None = None) -> None:
        """A view of `state` (an empty one when None: a view of nothing, for rules checked alone)."""
        self._state = state or ViewState()
        self.tenants: Mapping[str, Tenant] = MappingProxyType(self._state.tenants)
        self.quotas: Mapping[str, TenantQuota] = MappingProxyType(self._state.quotas)
        """Every quota that tenants name (MTO's Quota), by name."""
        self.tenant_quotas: Mapping[str, TenantQuota] = MappingProxyType(self._state.tenant_quotas)
        """Every quota that names the tenant it limits (Kiosk's AccountQuota), by name."""
        self.kinds: Mapping[str, str] = MappingProxyType(self._state.kinds)
        """The qualified kind (`Tenant.tenantoperator.stakater.com`, ...) each tenant name belongs to."""
        self.labelled: Mapping[str, Mapping[str, Mapping[str, str]]] = MappingProxyType(self._state.labelled)
        """Per tenant, the namespaces labelled as its own, with their labels (from namespace events)."""
        self.deployed: Mapping[str, frozenset[str]] = MappingProxyType(self._state.deployed)
        """Per namespace, the template instances kubetenancy made there that are deployed."""

    @property
    def policy(self) -> ClusterPolicy:
        return self._state.policy

    @property
    def aws(self) -> IdentityIndex:
        """CAPA identities, the objects using them and every namespace's labels (where CAPA is installed).
        Rules only call its read methods; the CAPA engine writes it through the tenancy index, and the
        capa-clusters webhook records the creates it admitted (`capa_identity_use.claim_cluster_name`, its
        `on_admit`): the one write admission makes, so that two creates of a cluster name in an instant are
        not both judged against an index that has seen neither."""
        return self._state.aws

    @property
    def initializing(self) -> Set[str]:
        """New namespaces whose members get access once their mandatory templates are deployed."""
        return self._state.initializing

    def tenant_of_namespace(self, namespace: str | None) -> Tenant | None:
        owner = self._state.namespace_owner.get(namespace or "")
        return self._state.tenants.get(owner) if owner else None

    def tenants_owned_by(self, user: str, groups: tuple[str, ...]) -> list[str]:
        return sorted(name for name, t in self._state.tenants.items() if t.tier_of(user, groups) == "owner")

    def tenants_using_quota(self, quota: str) -> list[str]:
        return sorted(name for name, t in self._state.tenants.items() if t.quota_name == quota)

    def namespace_claims(self) -> Mapping[str, str]:
        return dict(self._state.namespace_owner)
