"""The multi-cluster model: managed clusters, tenant admins, RoleRequests and ClusterProfiles.

What the Sveltos front door (`frontdoors.sveltos`) makes of SveltosClusters, Cluster API Clusters,
RoleRequests and ClusterProfiles, and all the multi-cluster engine (`multicluster/`) sees of them: it never
reads their custom resources itself. Immutable data; no I/O, no Kubernetes client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from kubetenancy.template_model import LabelSelector


@dataclass(frozen=True)
class ManagedCluster:
    kind: str
    """SveltosCluster or Cluster."""
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    paused: bool = False
    secret_name: str = ""
    secret_key: str | None = None
    """The key of the kubeconfig in the Secret; None: its only key, else kubeconfig or value."""
    failure_threshold: int = 3
    api_version: str = ""
    """The apiVersion of the object that registered the cluster."""
    probed: bool = False
    """Whether its connection is checked and reported in its status (SveltosClusters)."""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.namespace, self.name

    @property
    def display(self) -> str:
        """As sveltosctl names clusters: `SveltosCluster:gke/production`, `Cluster:default/workload`."""
        return f"{self.kind}:{self.namespace}/{self.name}"

    def reference(self) -> dict[str, str]:
        """The cluster as an ObjectReference, as Sveltos lists it in statuses."""
        return {"apiVersion": self.api_version, "kind": self.kind, "namespace": self.namespace, "name": self.name}


@dataclass(frozen=True)
class Admin:
    """A tenant admin: a ServiceAccount of the management cluster."""

    namespace: str
    name: str

    @property
    def managed_name(self) -> str:
        """Its ServiceAccount's name in managed clusters."""
        return f"{self.namespace}--{self.name}"


@dataclass(frozen=True)
class Reference:
    """A ConfigMap or Secret of the management cluster; an empty namespace means each cluster's own."""

    kind: Literal["ConfigMap", "Secret"]
    namespace: str
    name: str


@dataclass(frozen=True)
class HelmChart:
    repository_url: str
    repository_name: str
    chart_name: str
    chart_version: str
    release_name: str
    release_namespace: str
    values: str | None = None
    action: Literal["Install", "Uninstall"] = "Install"


@dataclass(frozen=True)
class RoleRequest:
    """Roles and ClusterRoles granted to a tenant admin in every matching cluster."""

    name: str
    admin: Admin
    cluster_selector: LabelSelector = field(default_factory=LabelSelector)
    role_refs: tuple[Reference, ...] = ()
    expiration_seconds: int | None = None
    """Validity of the admin's token in each cluster; None: the default."""


@dataclass(frozen=True)
class ClusterProfile:
    """Manifests and Helm charts deployed to every matching cluster, as the platform admin or a tenant admin."""

    name: str
    admin: Admin | None
    """The tenant admin it is deployed as; None: the platform admin."""
    cluster_selector: LabelSelector = field(default_factory=LabelSelector)
    sync_mode: Literal["OneTime", "Continuous"] = "Continuous"
    stop_matching_behavior: Literal["WithdrawPolicies", "LeavePolicies"] = "WithdrawPolicies"
    policy_refs: tuple[Reference, ...] = ()
    helm_charts: tuple[HelmChart, ...] = ()
