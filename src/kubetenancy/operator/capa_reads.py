"""What the CAPA webhooks and Event reporter read from the API server themselves, besides the watches.

Identities, a namespace, a Cluster and its CAPA objects are usually applied together, a moment apart, so
the webhooks read what a judged request links to as it is now; the reporter re-reads the CAPA objects
before each pass. Also which of CAPA's CRDs exist, and serving its v1beta1 identities again. Reads only
(and that one CRD flag); decisions are the admission rules' and `cloud.identity_index`'s.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from kubetenancy.admission import Decision, Request
from kubetenancy.api.capa import AWS_CLUSTER, AWS_MANAGED_CONTROL_PLANE, CONSUMER_KINDS, IDENTITY_KINDS
from kubetenancy.api.sveltos import CAPI_CLUSTER_V1BETA1
from kubetenancy.cloud.identity_index import ClusterKey, IdentityIndex, cluster_key
from kubetenancy.desired.capa_crds import serve_v1beta1
from kubetenancy.frontdoors.capa import (
    CAPI_GROUP,
    IDENTITIES,
    capi_cluster_refs,
    cluster_from_cr,
    identity_from_cr,
    is_consumer,
)
from kubetenancy.k8s import ApiError, Kube, register_custom_resource
from kubetenancy.k8s.crds import CRD_API
from kubetenancy.model import IdentityKey
from kubetenancy.operator.admission_server import Handler

log = logging.getLogger(__name__)
CAPA_CRDS = frozenset(k.crd_name for k in IDENTITY_KINDS)
CONSUMERS_BY_KIND = {k.kind: k for k in CONSUMER_KINDS}
MAX_CHAIN = 16
"""The most identities read from the API server for one request (chains are short; loops are refused)."""
CONFLICT_RETRIES = 5

for _kind in (*IDENTITY_KINDS, *CONSUMER_KINDS):
    register_custom_resource(_kind.group, _kind.version, _kind.kind, _kind.plural, namespaced=_kind.namespaced)


def involved(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid") if k in meta},
    }


async def installed_crds(kube: Kube) -> set[str]:
    """Which of CAPA's identity CRDs exist (the CAPA webhooks are registered only where they all do)."""
    return {name for name in CAPA_CRDS if await kube.get(CRD_API, "CustomResourceDefinition", name) is not None}


async def serve_v1beta1_identities(kube: Kube) -> None:
    """Serve v1beta1 of CAPA's identity CRDs again, so v1beta1 walkthroughs apply (see desired.capa_crds).
    The patch is conditional on the CRD's resourceVersion; the API server's own status writes while a CRD
    is being established make it conflict, so it is read and tried again."""
    for name in sorted(CAPA_CRDS):
        for _ in range(CONFLICT_RETRIES):
            crd = await kube.get(CRD_API, "CustomResourceDefinition", name)
            patch = serve_v1beta1(crd) if crd else None
            if patch is None:
                break
            try:
                await kube.patch(CRD_API, "CustomResourceDefinition", name, patch)
            except ApiError as error:
                if error.status.code != 409:
                    raise
                continue
            log.info("serving v1beta1 of %s again (CAPA stopped serving it in v2.4.0)", name)
            break


async def load_identities(kube: Kube, index: IdentityIndex) -> None:
    """Every identity as it is now (replacing the index's at once, so no reader sees a partial set)."""
    fresh = IdentityIndex()
    for kind in IDENTITY_KINDS:
        for obj in await kube.list(kind.api_version, kind.kind):
            fresh.put_identity(identity_from_cr({**obj, "kind": kind.kind}))
    index.identities = fresh.identities


async def load_clusters(kube: Kube, index: IdentityIndex) -> dict[ClusterKey, dict[str, Any]]:
    """Every CAPA object with an identityRef as it is now (replacing the index's at once); returns them,
    for Events. Kinds whose CRD is missing (the ROSA kinds are optional parts of CAPA) are skipped."""
    fresh = IdentityIndex()
    objects: dict[ClusterKey, dict[str, Any]] = {}
    for kind in CONSUMER_KINDS:
        if await kube.get(CRD_API, "CustomResourceDefinition", kind.crd_name) is None:
            continue
        for listed in await kube.list(kind.api_version, kind.kind):
            obj = {**listed, "apiVersion": kind.api_version, "kind": kind.kind}  # list items may omit them
            cluster = cluster_from_cr(obj)
            fresh.put_cluster(cluster)
            objects[cluster_key(cluster)] = involved(obj)
    index.clusters = fresh.clusters
    return objects


async def load(kube: Kube, index: IdentityIndex) -> dict[ClusterKey, dict[str, Any]]:
    """Namespaces, identities and CAPA objects, so a first judgement sees complete chains (watch events
    then keep the index current); returns the CAPA objects."""
    for namespace in await kube.list("v1", "Namespace"):
        index.namespace_seen(namespace["metadata"]["name"], namespace["metadata"].get("labels") or {}, deleted=False)
    await load_identities(kube, index)
    return await load_clusters(kube, index)


def confirming_deletes(kube: Kube, index: IdentityIndex, check: Handler) -> Handler:
    """The capa-identities webhook, which judges a deletion against the identities and objects as they are
    now (one created a moment ago may not have reached the watches yet)."""

    async def handle(request: Request) -> Decision:
        if request.operation == "DELETE":
            with contextlib.suppress(ApiError):  # what cannot be read is judged from the index alone
                await load_identities(kube, index)
                await load_clusters(kube, index)
        return await check(request)

    return handle


def confirming(kube: Kube, index: IdentityIndex, check: Handler) -> Handler:
    """The capa-clusters webhook, which first reads what a request links to if the index has not seen it
    yet (identities, namespaces, Clusters and CAPA objects are usually applied together, a moment apart)."""

    async def handle(request: Request) -> Decision:
        with contextlib.suppress(ApiError):  # what cannot be read is judged from the index alone
            await _read_links(request)
        return await check(request)

    async def _read_links(request: Request) -> None:
        namespace = request.namespace or ""
        if request.group == CAPI_GROUP and request.kind == "Cluster":
            for kind, name in capi_cluster_refs(request.obj):
                served = CONSUMERS_BY_KIND.get(kind)
                if served and (kind, namespace, name) not in index.clusters:
                    found = await kube.get(served.api_version, kind, name, namespace)
                    if found is not None:
                        index.put_cluster(cluster_from_cr({**found, "kind": kind}))
        elif is_consumer(request.group, request.kind):
            cluster = cluster_from_cr({**request.obj, "kind": request.kind})
            old = cluster_from_cr({**request.old, "kind": request.kind}) if request.old else None
            if old is None or old.identity != cluster.identity:  # judged: read the chain and namespace fresh
                await _read_chain(cluster.identity)
                if namespace:
                    found = await kube.get("v1", "Namespace", namespace)
                    labels = (found or {}).get("metadata", {}).get("labels") or {}
                    index.namespace_seen(namespace, labels, deleted=found is None)
            if old is None or old.identity != cluster.identity or old.cluster_name != cluster.cluster_name:
                await _read_network_owners()
            key = (request.kind, namespace, request.name)
            if namespace and key not in index.capi_names and key not in index.clusters:
                for capi in await kube.list(CAPI_CLUSTER_V1BETA1.api_version, "Cluster", namespace=namespace):
                    meta = capi["metadata"]
                    index.capi_cluster_seen(namespace, meta["name"], capi_cluster_refs(capi), deleted=False)

    async def _read_network_owners() -> None:
        """Every AWSCluster and AWSManagedControlPlane as they are now, for the shared-name check."""
        for kind in (AWS_CLUSTER, AWS_MANAGED_CONTROL_PLANE):
            for listed in await kube.list(kind.api_version, kind.kind):
                index.put_cluster(cluster_from_cr({**listed, "kind": kind.kind}))

    async def _read_chain(start: IdentityKey) -> None:
        """The chain's identities as they are now (one may have been applied or changed a moment ago)."""
        key: IdentityKey | None = start
        seen: set[IdentityKey] = set()
        while key is not None and key not in seen and len(seen) < MAX_CHAIN and key.kind in IDENTITIES:
            seen.add(key)
            found = await kube.get(IDENTITIES[key.kind].api_version, key.kind, key.name)
            if found is None:
                index.remove_identity(key)
                return
            identity = identity_from_cr({**found, "kind": key.kind})
            index.put_identity(identity)
            key = identity.source

    return handle
