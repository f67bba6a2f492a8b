"""kopf wiring of multi-cluster tenancy: cluster, RoleRequest, ClusterProfile and reference events, and a
periodic pass that probes SveltosClusters, renews tokens and rolls out what changed.

Handlers only route: a cluster added, removed or relabelled re-checks every RoleRequest and ClusterProfile
(coalesced into one run); a ConfigMap or Secret re-checks those referencing it; a tenant admin's
kubeconfig Secret re-checks that admin's RoleRequests (a deleted or ageing token is replaced) and
profiles (a newly granted cluster gets them). The engine is `kubetenancy.multicluster`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import kopf

from kubetenancy.cluster_model import Admin, ManagedCluster
from kubetenancy.frontdoors.sveltos import SERVICE_ACCOUNT_NAME_LABEL, SERVICE_ACCOUNT_NAMESPACE_LABEL
from kubetenancy.frontdoors.table import CLUSTER_PROFILE, CLUSTERS, ROLE_REQUEST
from kubetenancy.k8s import Kube, explain
from kubetenancy.multicluster.clusterprofiles import ClusterProfileReconciler
from kubetenancy.multicluster.clusters import probe_status
from kubetenancy.multicluster.grants import ADMIN_NAME_LABEL, ADMIN_NAMESPACE_LABEL, ROLE_REQUEST_LABEL
from kubetenancy.multicluster.helm import Helm
from kubetenancy.multicluster.registry import ClusterFailure, ClusterRegistry
from kubetenancy.multicluster.rolerequests import RoleRequestReconciler
from kubetenancy.operator.config import OperatorConfig
from kubetenancy.reconciling import merge_patch

log = logging.getLogger(__name__)


class Coalesced:
    """Runs `work` once for any number of requests made while it was waiting or running."""

    def __init__(self, work: Callable[[], Awaitable[None]]) -> None:
        self._work = work
        self._dirty = False
        self._task: asyncio.Task[None] | None = None

    def request(self) -> None:
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self._work()
            except Exception:  # the next request or periodic pass tries again
                log.exception("multi-cluster pass failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class MultiCluster:
    def __init__(self, kube: Kube, config: OperatorConfig) -> None:
        self.kube = kube
        self.resync_seconds = config.resync_seconds
        self.clusters = ClusterRegistry(kube, timeout=config.cluster_timeout, concurrency=config.cluster_concurrency)
        self.role_requests = RoleRequestReconciler(kube, self.clusters)
        self.profiles = ClusterProfileReconciler(kube, self.clusters, Helm(config.helm, config.work_dir / "helm"))
        self.everything = Coalesced(self._everything)
        self.probing = Coalesced(self.probe)
        self._periodic: asyncio.Task[None] | None = None

    async def _everything(self) -> None:
        """Every RoleRequest, then every ClusterProfile, each concurrently (a slow cluster holds up only the
        objects that select it). RoleRequests first: tenant admins' profiles use the kubeconfigs they leave."""
        for reconciler in (self.role_requests, self.profiles):
            names = await reconciler.names()
            results = await asyncio.gather(*(reconciler.reconcile(name) for name in names), return_exceptions=True)
            for name, result in zip(names, results, strict=True):
                if isinstance(result, Exception):
                    log.warning("%s %s: %s", reconciler.kind, name, explain(result))

    async def cluster_seen(self, cluster: ManagedCluster, *, deleted: bool) -> None:
        await self.clusters.load()
        if self.clusters.seen(cluster, deleted=deleted):
            self.probing.request()
            self.everything.request()

    async def tenant_profiles(self, admin: Admin) -> None:
        labels = {SERVICE_ACCOUNT_NAME_LABEL: admin.name, SERVICE_ACCOUNT_NAMESPACE_LABEL: admin.namespace}
        served = CLUSTER_PROFILE.served
        for profile in await self.kube.list(served.api_version, served.kind, labels=labels):
            await self.profiles.reconcile(profile["metadata"]["name"])

    async def probe(self) -> None:
        """Check every SveltosCluster's connection and record it in its status (only when it changed)."""
        await self.clusters.load()
        targets = [c for c in self.clusters.all() if c.probed]
        results = await self.clusters.fan_out(targets, self.clusters.probe)
        for cluster in targets:
            outcome = results[cluster.key]
            failure = str(outcome) if isinstance(outcome, ClusterFailure) else None
            live = await self.kube.get(cluster.api_version, cluster.kind, cluster.name, cluster.namespace)
            if live is None:
                continue
            current: dict[str, Any] = live.get("status") or {}
            patch = merge_patch(current, probe_status(current, cluster, None if failure else str(outcome), failure))
            if patch:
                await self.kube.patch_status(cluster.api_version, cluster.kind, cluster.name, patch, cluster.namespace)

    async def _periodically(self) -> None:
        """Events start the first passes; this one catches ageing tokens, edits events missed, and health."""
        while True:
            await asyncio.sleep(self.resync_seconds)
            self.probing.request()
            self.everything.request()

    def start(self) -> None:
        self._periodic = asyncio.create_task(self._periodically())

    async def stop(self) -> None:
        if self._periodic is not None:
            self._periodic.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._periodic
        await self.everything.stop()
        await self.probing.stop()
        await self.clusters.close()


def register_multicluster_handlers(registry: kopf.OperatorRegistry, kube: Kube, config: OperatorConfig) -> None:
    """Register the handlers; the periodic pass starts with the operator and stops with it."""
    engine = MultiCluster(kube, config)

    @kopf.on.startup(registry=registry)
    async def start_multicluster(**_: Any) -> None:
        engine.start()

    @kopf.on.cleanup(registry=registry)
    async def stop_multicluster(**_: Any) -> None:
        await engine.stop()

    for door in CLUSTERS:

        @kopf.on.event(door.served.group, door.served.version, door.served.plural, registry=registry, param=door)
        async def cluster_changed(**kwargs: Any) -> None:
            try:
                cluster = kwargs["param"].read(kwargs["body"])
            except ValueError as error:
                log.warning("ignoring %s %s: %s", kwargs["body"].get("kind"), kwargs["name"], error)
                return
            await engine.cluster_seen(cluster, deleted=kwargs["type"] == "DELETED")

    served = ROLE_REQUEST.served

    @kopf.on.event(served.group, served.version, served.plural, registry=registry)
    async def role_request_changed(**kwargs: Any) -> None:
        if kwargs["type"] != "DELETED":
            await engine.role_requests.reconcile(kwargs["name"])

    served = CLUSTER_PROFILE.served

    @kopf.on.event(served.group, served.version, served.plural, registry=registry)
    async def cluster_profile_changed(**kwargs: Any) -> None:
        if kwargs["type"] != "DELETED":
            await engine.profiles.reconcile(kwargs["name"])

    async def reference_changed(kind: str, namespace: str, name: str) -> None:
        for role_request in engine.role_requests.referrers(kind, namespace, name):
            await engine.role_requests.reconcile(role_request)
        for profile in engine.profiles.referrers(kind, namespace, name):
            await engine.profiles.reconcile(profile)

    def referenced(kind: str) -> Callable[..., bool]:
        """Only ConfigMaps and Secrets someone references (or tenant kubeconfigs) reach the handlers."""

        def check(**kwargs: Any) -> bool:
            if kind == "Secret" and kwargs["labels"].get(ROLE_REQUEST_LABEL) == "ok":
                return True
            namespace, name = kwargs["namespace"], kwargs["name"]
            return bool(
                engine.role_requests.referrers(kind, namespace, name)
                or engine.profiles.referrers(kind, namespace, name)
            )

        return check

    @kopf.on.event("v1", "configmaps", when=referenced("ConfigMap"), registry=registry)
    async def config_map_changed(**kwargs: Any) -> None:
        await reference_changed("ConfigMap", kwargs["namespace"], kwargs["name"])

    @kopf.on.event("v1", "secrets", when=referenced("Secret"), registry=registry)
    async def secret_changed(**kwargs: Any) -> None:
        labels: dict[str, str] = kwargs["labels"]
        if labels.get(ROLE_REQUEST_LABEL) == "ok" and ADMIN_NAME_LABEL in labels:
            admin = Admin(labels.get(ADMIN_NAMESPACE_LABEL, ""), labels[ADMIN_NAME_LABEL])
            for role_request in engine.role_requests.granting(admin):
                await engine.role_requests.reconcile(role_request)
            await engine.tenant_profiles(admin)
        await reference_changed("Secret", kwargs["namespace"], kwargs["name"])
