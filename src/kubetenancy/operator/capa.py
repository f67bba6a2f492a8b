"""kopf wiring of Cluster API AWS identities: keep the admission view's identity index current, register
the CAPA webhooks when CAPA's CRDs appear (and serve their v1beta1 identities again), and tell each CAPA
object when it gains or loses the right to use its identity (an Event on the object: CAPA itself says
so only in its log).

Handlers only route: the index (`kubetenancy.cloud.identity_index`) decides, `k8s.events` writes. Nothing
here writes CAPA's objects or their status. Where CAPA is not installed the handlers see nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from kubetenancy.admission.decision import Missing
from kubetenancy.cloud.identity_index import ClusterKey, IdentityIndex, cluster_key
from kubetenancy.desired.capa_crds import serve_v1beta1
from kubetenancy.frontdoors.capa import capi_cluster_refs
from kubetenancy.frontdoors.table import CAPA_CLUSTERS, CAPA_IDENTITIES, CAPI_CLUSTER, door_of
from kubetenancy.k8s import ApiError, Kube, register_custom_resource
from kubetenancy.k8s.crds import CRD_API
from kubetenancy.k8s.events import post_event
from kubetenancy.operator.admission_server import Confirm
from kubetenancy.operator.multicluster import Coalesced
from kubetenancy.operator.webhook_registration import WebhookRegistration

log = logging.getLogger(__name__)
CONFLICT_RETRIES = 5
NAMESPACE = ("v1", "Namespace")
CAPA_CRDS = frozenset(d.served.crd_name for d in CAPA_IDENTITIES)

for _kind in [d.served for d in CAPA_IDENTITIES] + [d.served for d in CAPA_CLUSTERS]:
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
        self.objects = await load_clusters(self.kube, self.index)  # a new CRD's watch may start late
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


async def load_clusters(kube: Kube, index: IdentityIndex) -> dict[ClusterKey, dict[str, Any]]:
    """Every CAPA object with an identityRef as it is now, replacing the index's at once (no reader sees a
    partial set); returns them, for Events. Kinds whose CRD is missing (the ROSA kinds are optional parts
    of CAPA) are skipped."""
    fresh = IdentityIndex()
    objects: dict[ClusterKey, dict[str, Any]] = {}
    for door in CAPA_CLUSTERS:
        kind = door.served
        if await kube.get(CRD_API, "CustomResourceDefinition", kind.crd_name) is None:
            continue
        for listed in await kube.list(kind.api_version, kind.kind):
            obj = {**listed, "apiVersion": kind.api_version, "kind": kind.kind}  # list items may omit them
            cluster = door.read(obj)
            fresh.put_cluster(cluster)
            objects[cluster_key(cluster)] = _involved(obj)
    index.clusters = fresh.clusters
    return objects


async def load(kube: Kube, index: IdentityIndex) -> dict[ClusterKey, dict[str, Any]]:
    """Read every identity, CAPA object and namespace into `index`, so that the first report judges
    complete chains (watch events then keep it current); return the CAPA objects read."""
    for namespace in await kube.list("v1", "Namespace"):
        index.namespace_seen(namespace["metadata"]["name"], namespace["metadata"].get("labels") or {}, deleted=False)
    for identity_door in CAPA_IDENTITIES:
        for obj in await kube.list(identity_door.served.api_version, identity_door.served.kind):
            index.put_identity(identity_door.read(obj))
    return await load_clusters(kube, index)


def capa_links(kube: Kube, index: IdentityIndex) -> Confirm:
    """Reads what a CAPA request links to when the index has not seen it yet (a Cluster and its CAPA
    objects are usually applied together, a moment apart), or may have seen an older version of (the
    identities and namespace labels behind a refusal), into the index; False for other kinds."""

    async def confirm(missing: Missing) -> bool:
        try:
            if (missing.api_version, missing.kind) == (CAPI_CLUSTER.served.api_version, CAPI_CLUSTER.served.kind):
                for capi in await kube.list(missing.api_version, missing.kind, namespace=missing.namespace):
                    meta = capi["metadata"]
                    index.capi_cluster_seen(meta["namespace"], meta["name"], capi_cluster_refs(capi), deleted=False)
                return True
            door = door_of(missing.api_version, missing.kind)
            known = door in CAPA_CLUSTERS or door in CAPA_IDENTITIES or (missing.api_version, missing.kind) == NAMESPACE
            if not known or missing.name is None:
                return False
            found = await kube.get(missing.api_version, missing.kind, missing.name, missing.namespace)
        except ApiError:  # what cannot be read is judged from the index alone
            return False
        if found is None:
            return False
        if door in CAPA_IDENTITIES:
            index.put_identity(door.read(found))
        elif door in CAPA_CLUSTERS:
            index.put_cluster(door.read(found))
        else:
            index.namespace_seen(missing.name, found["metadata"].get("labels") or {}, deleted=False)
        return True

    return confirm


def register_capa_handlers(
    registry: kopf.OperatorRegistry, kube: Kube, index: IdentityIndex, registration: WebhookRegistration
) -> None:
    reporter = IdentityReporter(kube, index)

    @kopf.on.startup(registry=registry)
    async def load_identities(**_: Any) -> None:
        if await installed_crds(kube) == CAPA_CRDS:
            await serve_v1beta1_identities(kube)
            reporter.objects.update(await load(kube, index))
            reporter.passes.request()

    for identity_door in CAPA_IDENTITIES:

        @kopf.on.event(identity_door.served.group, identity_door.served.plural, registry=registry, param=identity_door)
        async def identity_changed(**kwargs: Any) -> None:
            body = dict(kwargs["body"])
            identity = kwargs["param"].read(body)
            if kwargs["type"] == "DELETED":
                index.remove_identity(identity.key)
            else:
                index.put_identity(identity)
            reporter.passes.request()

    for door in CAPA_CLUSTERS:

        @kopf.on.event(door.served.group, door.served.plural, registry=registry, param=door)
        async def consumer_changed(**kwargs: Any) -> None:
            body = dict(kwargs["body"])
            cluster = kwargs["param"].read(body)
            if kwargs["type"] == "DELETED":
                index.remove_cluster(cluster_key(cluster))
                reporter.objects.pop(cluster_key(cluster), None)
            else:
                index.put_cluster(cluster)
                reporter.objects[cluster_key(cluster)] = _involved(body)
            reporter.passes.request()

    @kopf.on.event(CAPI_CLUSTER.served.group, CAPI_CLUSTER.served.plural, registry=registry)
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
        await registration.crds_changed()
        if kwargs["type"] != "DELETED":
            await serve_v1beta1_identities(kube)

    @kopf.on.cleanup(registry=registry)
    async def stop_reporting(**_: Any) -> None:
        await reporter.passes.stop()
