"""Reconcile ClusterProfiles: apply their manifests and Helm charts in every matching cluster.

Manifests go in with server-side apply and charts with Helm, both as the profile's admin: the platform
admin's kubeconfig of the cluster, or for a tenant admin's profile that admin's kubeconfig from its
RoleRequests, so a cluster not granted to the tenant fails with a status saying so and nothing changes
there. OneTime profiles are deployed once per cluster; Continuous ones again whenever their hash (spec,
referenced content, admin) changes. What a cluster no longer gets is withdrawn with the same credentials
(unless stopMatchingBehavior is LeavePolicies), except Namespaces, which are never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetenancy.cluster_model import Admin, ClusterProfile, ManagedCluster
from kubetenancy.frontdoors.sveltos import CLUSTER_PROFILE_FINALIZER
from kubetenancy.frontdoors.table import CLUSTER_PROFILE
from kubetenancy.k8s import Kube, applier
from kubetenancy.multicluster.clusters import key_of_reference
from kubetenancy.multicluster.grants import kubeconfig_secret_name, stored_kubeconfig
from kubetenancy.multicluster.helm import Helm
from kubetenancy.multicluster.lifecycle import Lifecycle
from kubetenancy.multicluster.profiles import (
    parse_resource_key,
    profile_hash,
    profile_manifests,
    release_key,
    resource_key,
)
from kubetenancy.multicluster.references import UnusableReference, data_of, describe, documents
from kubetenancy.multicluster.registry import ClusterFailure, ClusterRegistry, Key
from kubetenancy.multicluster.rolerequests import Entry, entries

ANY_NAMESPACE = "*"
"""In the reference index: a policyRef without namespace reads from each cluster's namespace."""


class ClusterProfileReconciler(Lifecycle):
    api_version = CLUSTER_PROFILE.served.api_version
    kind = CLUSTER_PROFILE.served.kind
    finalizer = CLUSTER_PROFILE_FINALIZER

    def __init__(self, kube: Kube, registry: ClusterRegistry, helm: Helm) -> None:
        super().__init__(kube)
        self.registry = registry
        self.helm = helm
        self._references: dict[str, frozenset[tuple[str, str, str]]] = {}

    def referrers(self, kind: str, namespace: str, name: str) -> list[str]:
        wanted = {(kind, namespace, name), (kind, ANY_NAMESPACE, name)}
        return sorted(profile for profile, refs in self._references.items() if refs & wanted)

    async def deploy(self, obj: dict[str, Any]) -> dict[str, Any]:
        name = obj["metadata"]["name"]
        await self.registry.load()
        previous = entries(obj.get("status"))
        try:
            spec = CLUSTER_PROFILE.read(obj)
        except ValueError as error:
            return {"matchingClusters": [], "clusterInfo": list(previous.values()), "failureMessage": str(error)}
        admin = spec.admin
        self._references[name] = frozenset((r.kind, r.namespace or ANY_NAMESPACE, r.name) for r in spec.policy_refs)
        matching = self.registry.matching(spec.cluster_selector)
        active = [c for c in matching if not c.paused]
        attempted: dict[Key, Entry] = {}

        async def deploy(cluster: ManagedCluster) -> Entry:
            return await self._deploy(cluster, name, spec, admin, previous.get(cluster.key), attempted)

        results = await self.registry.fan_out(active, deploy)
        info = [previous[c.key] for c in matching if c.paused and c.key in previous]
        for cluster in active:
            outcome = results[cluster.key]
            if isinstance(outcome, ClusterFailure):
                tried = attempted.get(cluster.key) or previous.get(cluster.key) or {}
                info.append(_entry(cluster, tried.get("hash", ""), "Failed", tried, str(outcome)))
            else:
                info.append(outcome)
        stale = {key: e for key, e in previous.items() if key not in {c.key for c in matching}}
        if spec.stop_matching_behavior == "WithdrawPolicies":
            info += await self._withdraw_from(stale, admin)
        return {
            "matchingClusters": [c.reference() for c in matching],
            "clusterInfo": sorted(info, key=lambda e: key_of_reference(e["cluster"])),
        }

    async def withdraw(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        await self.registry.load()  # a cluster the registry does not know yet would be taken as gone
        self._references.pop(obj["metadata"]["name"], None)
        previous = entries(obj.get("status"))
        try:
            spec = CLUSTER_PROFILE.read(obj)
        except ValueError:
            return None
        admin = spec.admin
        if spec.stop_matching_behavior == "LeavePolicies":
            return None
        left = await self._withdraw_from(previous, admin)
        return {"matchingClusters": [], "clusterInfo": left} if left else None

    async def _manifests(self, cluster: ManagedCluster, name: str, spec: ClusterProfile) -> list[dict[str, Any]]:
        manifests: list[dict[str, Any]] = []
        for ref in spec.policy_refs:
            namespace = ref.namespace or cluster.namespace
            obj = await self.kube.get("v1", ref.kind, ref.name, namespace)
            where = describe(ref.kind, namespace, ref.name)
            docs = documents(data_of(ref.kind, namespace, ref.name, obj), where)
            manifests += profile_manifests(name, (ref.kind, namespace, ref.name), docs)
        return manifests

    async def _credentials(self, cluster: ManagedCluster, admin: Admin | None) -> dict[str, Any]:
        """The kubeconfig the profile acts with in `cluster`: the platform admin's or the tenant admin's."""
        if admin is None:
            return await self.registry.admin_kubeconfig(cluster)
        secret = await self.kube.get("v1", "Secret", kubeconfig_secret_name(cluster, admin), cluster.namespace)
        kubeconfig = stored_kubeconfig(secret)
        if kubeconfig is None:
            raise ClusterFailure(
                f"tenant admin {admin.namespace}/{admin.name} has no access to {cluster.display}: no RoleRequest "
                "grants it this cluster, so nothing was deployed there"
            )
        return kubeconfig

    async def _deploy(
        self,
        cluster: ManagedCluster,
        name: str,
        spec: ClusterProfile,
        admin: Admin | None,
        previous: Entry | None,
        attempted: dict[Key, Entry],
    ) -> Entry:
        deployed = previous if previous is not None and previous.get("status") == "Provisioned" else None
        if deployed is not None and spec.sync_mode == "OneTime":
            return deployed  # deployed once: later changes, even of the references, do not matter
        try:
            manifests = await self._manifests(cluster, name, spec)
        except UnusableReference as error:
            raise ClusterFailure(str(error)) from None
        digest = profile_hash(cluster, spec, admin, manifests)
        if deployed is not None and deployed.get("hash") == digest:
            return deployed
        kubeconfig = await self._credentials(cluster, admin)
        remote = await self.registry.client(cluster, kubeconfig)
        installs = [c for c in spec.helm_charts if c.action == "Install"]
        resources = {resource_key(m) for m in manifests}
        releases = {release_key(c) for c in installs}
        before = previous or {}
        attempted[cluster.key] = _entry(
            cluster, digest, "Provisioning",
            {"resources": sorted(resources | set(before.get("resources", []))),
             "releases": sorted(releases | set(before.get("releases", [])))},
        )  # fmt: skip
        try:
            await remote.learn_kinds(manifests)
        except KeyError as error:
            raise ClusterFailure(f"{cluster.display} does not serve a kind the manifests use: {error}") from None
        await applier.apply_all(remote, manifests)
        await _delete(remote, set(before.get("resources", [])) - resources)
        for chart in spec.helm_charts:
            if chart.action == "Install":
                await self.helm.install(kubeconfig, chart)
            else:
                await self.helm.uninstall(kubeconfig, chart.release_namespace, chart.release_name)
        for release in sorted(set(before.get("releases", [])) - releases):
            namespace, _, release_name = release.partition("/")
            await self.helm.uninstall(kubeconfig, namespace, release_name)
        return _entry(cluster, digest, "Provisioned", {"resources": sorted(resources), "releases": sorted(releases)})

    async def _withdraw_from(self, stale: Mapping[Key, Entry], admin: Admin | None) -> list[Entry]:
        """Withdraw from these clusters; return the entries of those not yet clean."""
        left: list[Entry] = []
        reachable = []
        for key, previous in stale.items():
            cluster = self.registry.get(key)
            if cluster is not None and cluster.paused:
                left.append(previous)
            elif cluster is not None:
                reachable.append(cluster)

        async def withdraw(cluster: ManagedCluster) -> None:
            previous = stale[cluster.key]
            try:
                kubeconfig = await self._credentials(cluster, admin)
            except ClusterFailure:
                return  # the tenant admin lost the cluster: nothing may be done there in its name
            remote = await self.registry.client(cluster, kubeconfig)
            for release in previous.get("releases", []):
                namespace, _, release_name = release.partition("/")
                await self.helm.uninstall(kubeconfig, namespace, release_name)
            await _delete(remote, set(previous.get("resources", [])))

        results = await self.registry.fan_out(reachable, withdraw)
        for cluster in reachable:
            outcome = results[cluster.key]
            if isinstance(outcome, ClusterFailure):
                left.append({**stale[cluster.key], "status": "Removing", "failureMessage": str(outcome)})
        return left


async def _delete(remote: Kube, keys: set[str]) -> None:
    """Delete what was deployed, except Namespaces: their content may be anyone's, so they stay."""
    for key in sorted(keys):
        api_version, kind, namespace, name = parse_resource_key(key)
        if (api_version, kind) == ("v1", "Namespace"):
            continue
        await remote.learn_kinds([{"apiVersion": api_version, "kind": kind}])
        await remote.delete(api_version, kind, name, namespace)


def _entry(
    cluster: ManagedCluster, digest: str, state: str, deployed: Mapping[str, Any], failure: str | None = None
) -> Entry:
    result: Entry = {"cluster": cluster.reference(), "hash": digest, "status": state}
    for field in ("resources", "releases"):
        if deployed.get(field):
            result[field] = list(deployed[field])
    if failure:
        result["failureMessage"] = failure
    return result
