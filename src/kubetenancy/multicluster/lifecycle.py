"""The life of a RoleRequest or ClusterProfile in the management cluster: finalizer, passes, status.

Each kind's passes run on the reconciler skeleton (`kubetenancy.reconciling`: one pass at a time per
object, re-read, retry with backoff, status written once per pass). A pass withdraws what the object
deployed when it is being deleted (the finalizer keeps it until every cluster is clean, so the cleanup
survives operator restarts), and otherwise deploys. A cluster's own failure is part of the status, never
an exception here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from prometheus_client import Counter

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.reconciling import Reconciler, status_writer

PASSES = Counter("kubetenancy_multicluster_passes", "Passes over RoleRequests and ClusterProfiles", ["kind"])


class Lifecycle(ABC):
    api_version: str
    kind: str
    finalizer: str

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.passes: Reconciler[str] = Reconciler(
            self.kind, self._read, self._pass, status_writer(kube), skip_deleting=False
        )

    @abstractmethod
    async def deploy(self, obj: dict[str, Any]) -> dict[str, Any]:
        """One pass over the object's clusters; returns its next status."""

    @abstractmethod
    async def withdraw(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Remove what the object deployed; None when done, else the status saying what is left."""

    async def names(self) -> list[str]:
        return [obj["metadata"]["name"] for obj in await self.kube.list(self.api_version, self.kind)]

    async def reconcile(self, name: str) -> None:
        await self.passes.run(name)

    async def _read(self, name: str) -> dict[str, Any] | None:
        return await self.kube.get(self.api_version, self.kind, name)

    async def _pass(self, name: str, obj: dict[str, Any], flags: frozenset[str]) -> dict[str, Any] | None:
        PASSES.labels(self.kind).inc()
        finalizers: list[str] = obj["metadata"].get("finalizers") or []
        if obj["metadata"].get("deletionTimestamp"):
            if self.finalizer not in finalizers:
                return None
            left = await self.withdraw(obj)
            if left is None:
                await self._set_finalizers(obj, [f for f in finalizers if f != self.finalizer])
            return left
        if self.finalizer not in finalizers:
            obj = await self._set_finalizers(obj, [*finalizers, self.finalizer])
        return await self.deploy(obj)

    async def _set_finalizers(self, obj: dict[str, Any], finalizers: list[str]) -> dict[str, Any]:
        """Conditional on the version read: a concurrent change makes this fail (409) and the pass retry."""
        meta = obj["metadata"]
        patch = {"metadata": {"finalizers": finalizers, "resourceVersion": meta["resourceVersion"]}}
        try:
            return await self.kube.patch(self.api_version, self.kind, meta["name"], patch)
        except ApiError as error:
            if error.status.code == 404:
                return obj
            raise
