"""kopf wiring of Cluster API AWS identities: keep the admission view's identity index current, register
the CAPA webhooks when CAPA's CRDs appear (and serve their v1beta1 identities again), and tell each CAPA
object when it gains or loses the right to use its identity (an Event on the object: CAPA itself says
so only in its log).

Handlers only route: the index (`kubetenancy.cloud.identity_index`) decides, `k8s.events` writes. Nothing
here writes CAPA's objects or their status. Where CAPA is not installed the handlers see nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import kopf

from kubetenancy.api.capa import CONSUMER_KINDS, IDENTITY_KINDS
from kubetenancy.cloud.identity_index import ClusterKey, IdentityIndex, cluster_key
from kubetenancy.frontdoors.capa import CAPI_GROUP, capi_cluster_refs, cluster_from_cr, identity_from_cr
from kubetenancy.k8s import Kube
from kubetenancy.k8s.events import post_event
from kubetenancy.operator.capa_reads import (
    CAPA_CRDS,
    installed_crds,
    involved,
    load,
    load_clusters,
    serve_v1beta1_identities,
)
from kubetenancy.operator.multicluster import Coalesced

log = logging.getLogger(__name__)


class IdentityReporter:
    """Posts an Event on each CAPA object whose right to its identity changed since the last pass; a new
    object that may not use its identity gets one too (one pass per burst of changes)."""

    def __init__(self, kube: Kube, index: IdentityIndex) -> None:
        self.kube, self.index = kube, index
        self.objects: dict[ClusterKey, dict[str, Any]] = {}
        self._last: dict[ClusterKey, str | None] = {}
        self.passes = Coalesced(self._report)

    async def _report(self) -> None:
        self.objects = await load_clusters(self.kube, self.index)  # a new CRD's watch may start late
        now = self.index.refusals()
        for key, refusal in now.items():
            if key not in self._last and refusal is None:
                continue
            if key in self._last and self._last[key] == refusal:
                continue
            identity = self.index.clusters[key].identity
            target = self.objects.get(key)
            if target is None:
                continue
            if refusal is None:
                message = f"may now use {identity}: CAPA reconciles it with that identity at its next pass"
                await post_event(self.kube, target, "Normal", "PrincipalUsageAllowed", message)
            else:
                message = f"{refusal}: CAPA does not reconcile it (kubectl tenancy aws identities)"
                await post_event(self.kube, target, "Warning", "PrincipalUsageUnauthorized", message)
        self._last = now


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
                reporter.objects[cluster_key(cluster)] = involved(body)
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
