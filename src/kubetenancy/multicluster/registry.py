"""The managed clusters the operator knows, how to reach them, and bounded fan-out to them.

The registry is filled once from a listing of SveltosClusters and Cluster API Clusters and kept current
from their events, so selecting clusters costs no API call. Work on many clusters runs concurrently, at
most `concurrency` clusters at a time for the whole process, and each cluster's part is cut off after
`timeout` seconds: an unreachable cluster delays no other and its result says why. Clients are cached per
cluster and kubeconfig, and replaced when the kubeconfig changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from kubetenancy.cluster_model import ManagedCluster
from kubetenancy.frontdoors.table import CLUSTERS
from kubetenancy.k8s import RETRYABLE_ERRORS, Kube, explain
from kubetenancy.multicluster.clusters import kubeconfig_from_secret
from kubetenancy.template_model import LabelSelector

T = TypeVar("T")
Key = tuple[str, str, str]
log = logging.getLogger(__name__)


class ClusterFailure(Exception):
    """One cluster's part of a fan-out failed; the message is what its status should say."""


class ClusterRegistry:
    def __init__(self, kube: Kube, *, timeout: float, concurrency: int) -> None:
        self.kube = kube
        self.timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._clusters: dict[Key, ManagedCluster] = {}
        self._clients: dict[tuple[str, str, str, str], tuple[str, Kube]] = {}
        self._loaded = False
        self._loading = asyncio.Lock()

    async def load(self) -> None:
        """List every managed cluster once; later changes come through `seen`."""
        async with self._loading:
            if self._loaded:
                return
            for door in CLUSTERS:
                for obj in await self.kube.list(door.served.api_version, door.served.kind):
                    try:
                        self.seen(door.read(obj))
                    except ValueError as error:
                        log.warning("ignoring %s %s: %s", door.served.kind, obj["metadata"]["name"], error)
            self._loaded = True

    def seen(self, cluster: ManagedCluster, *, deleted: bool = False) -> bool:
        """Record a cluster (or its deletion); True when selections may have changed."""
        previous = self._clusters.pop(cluster.key, None)
        if not deleted:
            self._clusters[cluster.key] = cluster
        return previous != (None if deleted else cluster)

    def get(self, key: Key) -> ManagedCluster | None:
        return self._clusters.get(key)

    def all(self) -> list[ManagedCluster]:
        return sorted(self._clusters.values(), key=lambda c: c.key)

    def matching(self, selector: LabelSelector) -> list[ManagedCluster]:
        return [cluster for cluster in self.all() if selector.matches(cluster.labels)]

    async def admin_kubeconfig(self, cluster: ManagedCluster) -> dict[str, Any]:
        """The platform admin's kubeconfig of `cluster`, from its Secret in the management cluster."""
        secret = await self.kube.get("v1", "Secret", cluster.secret_name, cluster.namespace)
        try:
            return kubeconfig_from_secret(cluster, secret)
        except ValueError as error:
            raise ClusterFailure(str(error)) from None

    async def client(self, cluster: ManagedCluster, kubeconfig: Mapping[str, Any]) -> Kube:
        """A client for `cluster` with these credentials, cached per cluster and user until they change."""
        digest = hashlib.sha256(json.dumps(kubeconfig, sort_keys=True, default=str).encode()).hexdigest()
        user = next((c["context"].get("user", "") for c in kubeconfig.get("contexts") or []
                     if c.get("name") == kubeconfig.get("current-context")), "")  # fmt: skip
        cached = self._clients.get((*cluster.key, user))
        if cached is not None:
            if cached[0] == digest:
                return cached[1]
            await cached[1].close()  # a renewed token or a new kubeconfig: the old client is done
        try:
            client = Kube(kubeconfig, timeout=self.timeout)
        except (ValueError, KeyError, TypeError) as error:
            raise ClusterFailure(f"the kubeconfig of {cluster.display} cannot be used: {error}") from None
        self._clients[(*cluster.key, user)] = (digest, client)
        return client

    async def connect(self, cluster: ManagedCluster) -> tuple[dict[str, Any], Kube]:
        """The platform admin's kubeconfig of `cluster` and a client acting as the platform admin."""
        kubeconfig = await self.admin_kubeconfig(cluster)
        return kubeconfig, await self.client(cluster, kubeconfig)

    async def fan_out(
        self, clusters: Iterable[ManagedCluster], work: Callable[[ManagedCluster], Awaitable[T]]
    ) -> dict[Key, T | ClusterFailure]:
        """Run `work` for every cluster, bounded and cut off per cluster; failures are results, not raised."""

        async def one(cluster: ManagedCluster) -> T | ClusterFailure:
            async with self._slots:
                try:
                    async with asyncio.timeout(self.timeout):
                        return await work(cluster)
                except ClusterFailure as failure:
                    return failure
                except TimeoutError:
                    return ClusterFailure(
                        f"{cluster.display} did not finish within {self.timeout:g}s: is it reachable?"
                    )
                except Exception as error:  # a cluster's failure is reported in its status, never raised
                    unexpected = not isinstance(error, RETRYABLE_ERRORS)  # a bug here, not the cluster's doing
                    log.info("work on %s failed: %s", cluster.display, explain(error), exc_info=unexpected)
                    return ClusterFailure(explain(error))

        targets = list(clusters)
        results = await asyncio.gather(*(one(cluster) for cluster in targets))
        return {cluster.key: result for cluster, result in zip(targets, results, strict=True)}

    async def probe(self, cluster: ManagedCluster) -> str:
        """The cluster's Kubernetes version; raises ClusterFailure if it cannot be reached."""
        _, client = await self.connect(cluster)
        return await client.server_version()

    async def close(self) -> None:
        for _, client in self._clients.values():
            await client.close()
        self._clients.clear()
