"""kopf wiring of Cluster API AWS identities: keep the admission view's identity index current, register
the CAPA webhooks when CAPA's CRDs appear (and serve their v1beta1 identities again), and tell each CAPA
object when it gains or loses the right to use its identity (an Event on the object: CAPA itself says
so only in its log).

Handlers only route: the index (`kubetenancy.cloud.identity_index`) decides, `k8s.events` writes. Nothing
here writes CAPA's objects or their status. Where CAPA is not installed the handlers see nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import kopf

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
from kubetenancy.k8s.events import post_event
from kubetenancy.model import IdentityKey
from kubetenancy.operator.admission_server import Handler
from kubetenancy.operator.multicluster import Coalesced

log = logging.getLogger(__name__)
CAPA_CRDS = frozenset(k.crd_name for k in IDENTITY_KINDS)
CONSUMERS_BY_KIND = {k.kind: k for k in CONSUMER_KINDS}
MAX_CHAIN = 16
"""The most identities read from the API server for one request (chains are short; loops are refused)."""

for _kind in (*IDENTITY_KINDS, *CONSUMER_KINDS):
    register_custom_resource(_kind.group, _kind.version, _kind.kind, _kind.plural, namespaced=_kind.namespaced)


def _involved(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid") if k in meta},
    }


class IdentityReporter:
    """Posts an Event on each CAPA object whose right to its identity changed since the last pass; a new
    object that may not use its identity gets one too (one pass per burst of changes)."""

    def __init__(self, kube: Kube, index: IdentityIndex) -> None:
        self.kube, self.index = kube, index
        self.objects: dict[ClusterKey, dict[str, Any]] = {}
        self._last: dict[ClusterKey, str | None] = {}
        self.passes = Coalesced(self._report)

    async def _report(self) -> None:
        now = self.index.refusals()
        for key, refusal in now.items():
            if key not in self._last and refusal is None:
                continue
            if key in self._last and self._last[key] == refusal:
                continue
            identity = self.index.clusters[key].identity
            involved = self.objects.get(key)
            if involved is None:
                continue
            if refusal is None:
                message = f"may now use {identity}: CAPA reconciles it with that identity at its next pass"
                await post_event(self.kube, involved, "Normal", "PrincipalUsageAllowed", message)
            else:
                message = f"{refusal}: CAPA does not reconcile it (kubectl tenancy aws identities)"
                await post_event(self.kube, involved, "Warning", "PrincipalUsageUnauthorized", message)
        self._last = now


async def installed_crds(kube: Kube) -> set[str]:
    """Which of CAPA's identity CRDs exist (the CAPA webhooks are registered only where they all do)."""
    return {name for name in CAPA_CRDS if await kube.get(CRD_API, "CustomResourceDefinition", name) is not None}


async def serve_v1beta1_identities(kube: Kube) -> None:
    """Serve v1beta1 of CAPA's identity CRDs again, so v1beta1 walkthroughs apply (see desired.capa_crds)."""
    for name in sorted(CAPA_CRDS):
        crd = await kube.get(CRD_API, "CustomResourceDefinition", name)
        patch = serve_v1beta1(crd) if crd else None
        if patch is not None:
            await kube.patch(CRD_API, "CustomResourceDefinition", name, patch)
            log.info("serving v1beta1 of %s again (CAPA stopped serving it in v2.4.0)", name)


async def load(kube: Kube, index: IdentityIndex) -> dict[ClusterKey, dict[str, Any]]:
    """Read every identity, CAPA object and namespace into `index`, so that the first report judges
    complete chains (watch events then keep it current); return the CAPA objects read."""
    for namespace in await kube.list("v1", "Namespace"):
        index.namespace_seen(namespace["metadata"]["name"], namespace["metadata"].get("labels") or {}, deleted=False)
    for kind in IDENTITY_KINDS:
        for obj in await kube.list(kind.api_version, kind.kind):
            index.put_identity(identity_from_cr({**obj, "kind": kind.kind}))
    objects: dict[ClusterKey, dict[str, Any]] = {}
    for kind in CONSUMER_KINDS:
        if await kube.get(CRD_API, "CustomResourceDefinition", kind.crd_name) is None:
            continue  # the ROSA kinds are optional parts of CAPA
        for listed in await kube.list(kind.api_version, kind.kind):
            obj = {**listed, "apiVersion": kind.api_version, "kind": kind.kind}  # list items may omit them
            cluster = cluster_from_cr(obj)
            index.put_cluster(cluster)
            objects[cluster_key(cluster)] = _involved(obj)
    return objects


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


def register_capa_handlers(
    registry: kopf.OperatorRegistry, kube: Kube, index: IdentityIndex, apply_webhooks: Callable[[], Awaitable[None]]
) -> None:
    reporter = IdentityReporter(kube, index)

    @kopf.on.startup(registry=registry)
    async def load_identities(**_: Any) -> None:
        if await installed_crds(kube) == CAPA_CRDS:
            await serve_v1beta1_identities(kube)
            reporter.objects.update(await load(kube, index))
            reporter.passes.request()

    for kind in IDENTITY_KINDS:

        @kopf.on.event(kind.group, kind.plural, registry=registry)
        async def identity_changed(**kwargs: Any) -> None:
            body = dict(kwargs["body"])
            identity = identity_from_cr(body)
            if kwargs["type"] == "DELETED":
                index.remove_identity(identity.key)
            else:
                index.put_identity(identity)
            reporter.passes.request()

    for kind in CONSUMER_KINDS:

        @kopf.on.event(kind.group, kind.plural, registry=registry)
        async def consumer_changed(**kwargs: Any) -> None:
            body = dict(kwargs["body"])
            cluster = cluster_from_cr(body)
            if kwargs["type"] == "DELETED":
                index.remove_cluster(cluster_key(cluster))
                reporter.objects.pop(cluster_key(cluster), None)
            else:
                index.put_cluster(cluster)
                reporter.objects[cluster_key(cluster)] = _involved(body)
            reporter.passes.request()

    @kopf.on.event(CAPI_GROUP, "clusters", registry=registry)
    async def capi_cluster_changed(**kwargs: Any) -> None:
        refs = capi_cluster_refs(kwargs["body"])
        index.capi_cluster_seen(kwargs["namespace"], kwargs["name"], refs, deleted=kwargs["type"] == "DELETED")

    @kopf.on.event("v1", "namespaces", registry=registry)
    async def namespace_labels_changed(**kwargs: Any) -> None:
        deleted = kwargs["type"] == "DELETED"
        if index.namespace_seen(kwargs["name"], dict(kwargs["labels"]), deleted=deleted) and index.clusters:
            reporter.passes.request()

    def is_capa_crd(name: str, **_: Any) -> bool:
        return name in CAPA_CRDS

    @kopf.on.event("apiextensions.k8s.io", "v1", "customresourcedefinitions", when=is_capa_crd, registry=registry)
    async def capa_installed(**kwargs: Any) -> None:
        log.info("CAPA CRD %s %s: registering webhooks again", kwargs["name"], kwargs["type"])
        await apply_webhooks()
        if kwargs["type"] != "DELETED":
            await serve_v1beta1_identities(kube)

    @kopf.on.cleanup(registry=registry)
    async def stop_reporting(**_: Any) -> None:
        await reporter.passes.stop()
