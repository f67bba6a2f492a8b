"""The operator's picture of CAPA identities and of the objects that use them, and the questions asked of it.

Fed by events (identities, CAPA cluster objects, Cluster API `Cluster`s, namespaces' labels); read by the
admission rules, the Event reporter and the CLI, which all ask the same questions here: may this object
use its identity, who uses an identity, which other cluster would share its AWS resources, which
namespace labels hand identities out. Pure: no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from kubetenancy.cloud.identity_chain import Chain, first_refusal, not_permitted, walk
from kubetenancy.model import CloudCluster, CloudIdentity, IdentityKey

ClusterKey = tuple[str, str, str]
"""(kind, namespace, name) of a CAPA object."""
CLAIM_SECONDS = 10.0
"""How long an admitted create holds its cluster name in any case (a create refused after admission, by
another webhook or by etcd, frees the name then)."""


def cluster_key(cluster: CloudCluster) -> ClusterKey:
    return (cluster.kind, cluster.namespace, cluster.name)


@dataclass
class IdentityIndex:
    identities: dict[IdentityKey, CloudIdentity] = field(default_factory=dict)
    clusters: dict[ClusterKey, CloudCluster] = field(default_factory=dict)
    namespace_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    """Every namespace's labels (selectors are evaluated against them, as CAPA lists namespaces)."""
    capi_names: dict[ClusterKey, str] = field(default_factory=dict)
    """CAPA objects a Cluster API `Cluster` points at, with that Cluster's name."""
    claims: dict[ClusterKey, tuple[CloudCluster, float]] = field(default_factory=dict)
    """Objects admitted but not seen yet, with when their claim lapses: two creates of one cluster name in
    two namespaces at the same instant are judged one after the other, not both against an empty index."""
    clock: Callable[[], float] = time.monotonic

    def put_identity(self, identity: CloudIdentity) -> None:
        self.identities[identity.key] = identity

    def remove_identity(self, key: IdentityKey) -> None:
        self.identities.pop(key, None)

    def put_cluster(self, cluster: CloudCluster) -> None:
        self.clusters[cluster_key(cluster)] = cluster

    def claim(self, cluster: CloudCluster) -> None:
        """An admitted create: its cluster name is taken for CLAIM_SECONDS, whether or not its object has
        been seen (a reload of every CAPA object from a list older than that object may drop it again)."""
        now = self.clock()
        self.claims = {k: c for k, c in self.claims.items() if c[1] > now}
        self.claims[cluster_key(cluster)] = (cluster, now + CLAIM_SECONDS)

    def remove_cluster(self, key: ClusterKey) -> None:
        self.clusters.pop(key, None)

    def namespace_seen(self, name: str, labels: Mapping[str, str], *, deleted: bool) -> bool:
        """Record a namespace's labels; True if they changed (or it came or went)."""
        before = self.namespace_labels.get(name)
        if deleted:
            self.namespace_labels.pop(name, None)
        else:
            self.namespace_labels[name] = dict(labels)
        return before != self.namespace_labels.get(name)

    def capi_cluster_seen(self, namespace: str, name: str, refs: Iterable[tuple[str, str]], *, deleted: bool) -> None:
        self.capi_names = {k: v for k, v in self.capi_names.items() if (k[1], v) != (namespace, name)}
        if not deleted:
            self.capi_names.update({(kind, namespace, ref): name for kind, ref in refs})

    # -- questions -----------------------------------------------------------------------------------

    def chain(self, key: IdentityKey) -> Chain:
        return walk(key, self.identities)

    def cluster_name(self, cluster: CloudCluster) -> str:
        """The name CAPA tags the cluster's AWS resources with: its Cluster API cluster's name."""
        return cluster.cluster_name or self.capi_names.get(cluster_key(cluster)) or cluster.name

    def refusal(self, cluster: CloudCluster) -> str | None:
        """Why CAPA will not reconcile `cluster` with its identity (CAPA's words), or None if it may."""
        chain = self.chain(cluster.identity)
        refused = first_refusal(chain, cluster.namespace, self.namespace_labels.get(cluster.namespace))
        if refused is not None:
            return not_permitted(refused)
        return chain.problem or None

    def refusals(self) -> dict[ClusterKey, str | None]:
        return {key: self.refusal(cluster) for key, cluster in self.clusters.items()}

    def clusters_using(self, key: IdentityKey) -> list[CloudCluster]:
        """Objects whose identity is `key` or reaches it through sourceIdentityRef."""
        users = [c for c in self.clusters.values() if key in self.chain(c.identity).keys or c.identity == key]
        return sorted(users, key=cluster_key)

    def namespaces_allowed(self, key: IdentityKey) -> list[str]:
        """Existing namespaces whose objects may use the identity through its whole chain."""
        chain = self.chain(key)
        if chain.problem:
            return []
        return sorted(ns for ns, labels in self.namespace_labels.items() if first_refusal(chain, ns, labels) is None)

    def protected_label_keys(self) -> frozenset[str]:
        """Namespace labels some identity's selector reads: setting one may hand out an AWS account."""
        return frozenset(k for identity in self.identities.values() for k in identity.allowance.label_keys)

    def sharing_resources_with(self, cluster: CloudCluster) -> CloudCluster | None:
        """Another namespace's CAPA cluster of the same Cluster API name that may land in the same account
        and region: CAPA finds VPCs and load balancers by a tag with the name only, so it would take them."""
        if not cluster.owns_network:
            return None
        name, account = self.cluster_name(cluster), self.chain(cluster.identity).landing_account
        now = self.clock()
        claimed = [c for key, (c, until) in self.claims.items() if until > now and key not in self.clusters]
        for other in sorted([*self.clusters.values(), *claimed], key=cluster_key):
            if not other.owns_network or other.namespace == cluster.namespace:
                continue
            if self.cluster_name(other) != name or (cluster.region and other.region and cluster.region != other.region):
                continue
            theirs = self.chain(other.identity).landing_account
            if account is None or theirs is None or account == theirs:
                return other
        return None
