"""Reconcile RoleRequests: grant tenant admins their Roles in every matching cluster, and take them back.

Per matching cluster: the tenant admin's ServiceAccount, the referenced Roles and ClusterRoles and their
bindings (`grants`), and in the management cluster a kubeconfig for that ServiceAccount from a
TokenRequest, renewed once less than a fifth of its validity is left. An unchanged grant (same hash in
the status, token not due) costs no request to the cluster and no write. A cluster that stops matching,
or a deleted RoleRequest, loses the grant (the ServiceAccount and kubeconfig go with the admin's last
RoleRequest there). A Role that exists but was not granted by this RoleRequest is never overwritten.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from kubetenancy.cluster_model import Admin, ManagedCluster, RoleRequest
from kubetenancy.frontdoors.sveltos import ROLE_REQUEST_FINALIZER
from kubetenancy.frontdoors.table import ROLE_REQUEST
from kubetenancy.k8s import Kube, applier
from kubetenancy.multicluster.clusters import key_of_reference
from kubetenancy.multicluster.grants import (
    DEFAULT_EXPIRATION_SECONDS,
    GRANT_KINDS,
    GRANT_LABEL,
    SA_NAMESPACE,
    SourcedRole,
    grant_hash,
    grant_objects,
    grant_selector,
    kubeconfig_secret,
    kubeconfig_secret_name,
    label_value,
    roles_in,
    stored_expiration,
)
from kubetenancy.multicluster.kubeconfigs import token_due, token_kubeconfig
from kubetenancy.multicluster.lifecycle import Lifecycle
from kubetenancy.multicluster.references import UnusableReference, data_of, describe, documents
from kubetenancy.multicluster.registry import ClusterFailure, ClusterRegistry, Key

Entry = dict[str, Any]
"""One item of status.clusterInfo."""


def entries(status: Mapping[str, Any] | None) -> dict[Key, Entry]:
    return {key_of_reference(entry["cluster"]): entry for entry in (status or {}).get("clusterInfo") or []}


def entry(cluster: ManagedCluster, digest: str, state: str, failure: str | None = None) -> Entry:
    result: Entry = {"cluster": cluster.reference(), "hash": digest, "status": state}
    if failure:
        result["failureMessage"] = failure
    return result


class RoleRequestReconciler(Lifecycle):
    api_version = ROLE_REQUEST.served.api_version
    kind = ROLE_REQUEST.served.kind
    finalizer = ROLE_REQUEST_FINALIZER

    def __init__(self, kube: Kube, registry: ClusterRegistry) -> None:
        super().__init__(kube)
        self.registry = registry
        self._references: dict[str, frozenset[tuple[str, str, str]]] = {}
        self._admins: dict[str, Admin] = {}

    def referrers(self, kind: str, namespace: str, name: str) -> list[str]:
        """RoleRequests whose roleRefs name this ConfigMap or Secret."""
        return sorted(rr for rr, refs in self._references.items() if (kind, namespace, name) in refs)

    def granting(self, admin: Admin) -> list[str]:
        return sorted(rr for rr, known in self._admins.items() if known == admin)

    async def deploy(self, obj: dict[str, Any]) -> dict[str, Any]:
        name = obj["metadata"]["name"]
        await self.registry.load()
        previous = entries(obj.get("status"))
        try:
            request = ROLE_REQUEST.read(obj)
        except ValueError as error:
            return status_of([], list(previous.values()), f"spec is invalid: {error}")
        self._admins[name] = request.admin
        self._references[name] = frozenset((r.kind, r.namespace, r.name) for r in request.role_refs)
        matching = self.registry.matching(request.cluster_selector)
        try:
            roles = await self._roles(request)
        except UnusableReference as error:  # keep what is granted until the references are fixed
            return status_of(matching, list(previous.values()), f"{error}; nothing was changed in any cluster")
        objects = grant_objects(request, roles)
        active = [c for c in matching if not c.paused]
        digests = {c.key: grant_hash(c, request, objects) for c in active}

        async def grant(cluster: ManagedCluster) -> None:
            await self._grant(cluster, request, objects, digests[cluster.key], previous.get(cluster.key))

        results = await self.registry.fan_out(active, grant)
        info = [previous[c.key] for c in matching if c.paused and c.key in previous]
        for cluster in active:
            outcome = results[cluster.key]
            failure = str(outcome) if isinstance(outcome, ClusterFailure) else None
            info.append(entry(cluster, digests[cluster.key], "Failed" if failure else "Provisioned", failure))
        stale = {key: e for key, e in previous.items() if key not in {c.key for c in matching}}
        info += await self._revoke(name, request.admin, stale)
        return status_of(matching, info, None)

    async def withdraw(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        await self.registry.load()  # a cluster the registry does not know yet would be taken as gone
        previous = entries(obj.get("status"))
        try:
            admin = ROLE_REQUEST.read(obj).admin
        except ValueError:
            return None  # never deployed anything
        left = await self._revoke(obj["metadata"]["name"], admin, previous)
        self._references.pop(obj["metadata"]["name"], None)
        self._admins.pop(obj["metadata"]["name"], None)
        return status_of([], left, None) if left else None

    async def _roles(self, request: RoleRequest) -> list[SourcedRole]:
        found = []
        for ref in request.role_refs:
            obj = await self.kube.get("v1", ref.kind, ref.name, ref.namespace)
            where = describe(ref.kind, ref.namespace, ref.name)
            for role in roles_in(documents(data_of(ref.kind, ref.namespace, ref.name, obj), where), where):
                found.append(SourcedRole(role, ref.kind, ref.namespace, ref.name))
        return found

    async def _grant(
        self,
        cluster: ManagedCluster,
        request: RoleRequest,
        objects: list[dict[str, Any]],
        digest: str,
        previous: Entry | None,
    ) -> None:
        admin, name = request.admin, request.name
        secret = await self.kube.get("v1", "Secret", kubeconfig_secret_name(cluster, admin), cluster.namespace)
        lifetime = request.expiration_seconds or DEFAULT_EXPIRATION_SECONDS
        due = token_due(stored_expiration(secret), lifetime, datetime.datetime.now(datetime.UTC))
        granted = previous is not None and previous.get("hash") == digest and previous.get("status") == "Provisioned"
        if granted and not due:
            return
        admin_kubeconfig, remote = await self.registry.connect(cluster)
        if not granted:
            await _refuse_foreign(remote, cluster, name, objects)
            await applier.sync_selected(remote, objects, grant_selector(name), GRANT_KINDS)
        if due:
            token, expiration = await remote.request_token(SA_NAMESPACE, admin.managed_name, lifetime)
            kubeconfig = token_kubeconfig(admin_kubeconfig, cluster.name, admin.managed_name, token)
            await self.kube.apply(kubeconfig_secret(cluster, admin, kubeconfig, expiration))

    async def _revoke(self, name: str, admin: Admin, stale: Mapping[Key, Entry]) -> list[Entry]:
        """Take the grant back from these clusters; return the entries of those still holding it."""
        left: list[Entry] = []
        reachable = []
        for key, previous in stale.items():
            cluster = self.registry.get(key)
            if cluster is None:  # the cluster is gone: only its kubeconfig Secret here is left to remove
                kind, namespace, cluster_name = key
                await self._forget_kubeconfig(ManagedCluster(kind, namespace, cluster_name), name, admin)
            elif cluster.paused:
                left.append(previous)
            else:
                reachable.append(cluster)

        async def revoke(cluster: ManagedCluster) -> None:
            _, remote = await self.registry.connect(cluster)
            await applier.sync_selected(remote, [], grant_selector(name), GRANT_KINDS)
            if not await self._still_granted(cluster, name, admin):
                await remote.delete("v1", "ServiceAccount", admin.managed_name, SA_NAMESPACE)
                await self.kube.delete("v1", "Secret", kubeconfig_secret_name(cluster, admin), cluster.namespace)

        results = await self.registry.fan_out(reachable, revoke)
        for cluster in reachable:
            outcome = results[cluster.key]
            if isinstance(outcome, ClusterFailure):
                left.append(entry(cluster, stale[cluster.key].get("hash", ""), "Removing", str(outcome)))
        return left

    async def _forget_kubeconfig(self, cluster: ManagedCluster, name: str, admin: Admin) -> None:
        if not await self._still_granted(cluster, name, admin):
            await self.kube.delete("v1", "Secret", kubeconfig_secret_name(cluster, admin), cluster.namespace)

    async def _still_granted(self, cluster: ManagedCluster, name: str, admin: Admin) -> bool:
        """Whether another RoleRequest of the same admin grants it this cluster (it keeps its account)."""
        for other in await self.kube.list(self.api_version, self.kind):
            if other["metadata"]["name"] == name or other["metadata"].get("deletionTimestamp"):
                continue
            try:
                granting = ROLE_REQUEST.read(other)
            except ValueError:
                continue
            if granting.admin == admin and (
                granting.cluster_selector.matches(cluster.labels) or cluster.key in entries(other.get("status"))
            ):
                return True
        return False


async def _refuse_foreign(remote: Kube, cluster: ManagedCluster, name: str, objects: list[dict[str, Any]]) -> None:
    """Never take over a Role or binding that this RoleRequest did not create (e.g. a built-in ClusterRole)."""
    ours = label_value(name)
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) not in GRANT_KINDS:
            continue
        meta = obj["metadata"]
        live = await remote.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        owner = ((live or {}).get("metadata", {}).get("labels") or {}).get(GRANT_LABEL)
        if live is not None and owner != ours:
            where = f' in namespace "{meta["namespace"]}"' if meta.get("namespace") else ""
            granted_by = f'RoleRequest "{owner}"' if owner else "someone else"
            raise ClusterFailure(
                f'{obj["kind"]} "{meta["name"]}"{where} already exists in {cluster.display} and belongs to '
                f'{granted_by}, not RoleRequest "{name}": give the role another name'
            )


def status_of(matching: list[ManagedCluster], info: list[Entry], failure: str | None) -> dict[str, Any]:
    status: dict[str, Any] = {
        "matchingClusters": [c.reference() for c in matching],
        "clusterInfo": sorted(info, key=lambda e: key_of_reference(e["cluster"])),
    }
    failed = [e for e in info if e.get("status") in ("Failed", "Removing")]
    if failure is None and failed:
        failure = f"{len(failed)} cluster(s) failed, see clusterInfo: " + "; ".join(
            f"{e['cluster']['kind']}:{e['cluster']['namespace']}/{e['cluster']['name']}: {e.get('failureMessage')}"
            for e in failed
        )
    if failure:
        status["failureMessage"] = failure
    return status
