"""The life of a RoleRequest or ClusterProfile in the management cluster: finalizer, passes, status.

A `Reconciler` runs one pass at a time per object: it reads the object afresh, withdraws what it
deployed when the object is being deleted (the finalizer keeps it until every cluster is clean, so the
cleanup survives operator restarts), and otherwise deploys and writes the status once, only if it
changed. Transient errors of the management cluster are retried with backoff; a cluster's own failure
is part of the status, never an exception here.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections import defaultdict
from typing import Any

from prometheus_client import Counter

from kubetenancy.k8s import RETRYABLE_ERRORS, ApiError, Kube

ATTEMPTS = 4
PASSES = Counter("kubetenancy_multicluster_passes", "Passes over RoleRequests and ClusterProfiles", ["kind"])
log = logging.getLogger(__name__)


class Reconciler(ABC):
    api_version: str
    kind: str
    finalizer: str

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @abstractmethod
    async def deploy(self, obj: dict[str, Any]) -> dict[str, Any]:
        """One pass over the object's clusters; returns its next status."""

    @abstractmethod
    async def withdraw(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Remove what the object deployed; None when done, else the status saying what is left."""

    async def names(self) -> list[str]:
        return [obj["metadata"]["name"] for obj in await self.kube.list(self.api_version, self.kind)]

    async def reconcile(self, name: str) -> None:
        for attempt in range(ATTEMPTS):
            try:
                async with self._locks[name]:
                    await self._pass(name)
                return
            except RETRYABLE_ERRORS as error:
                if attempt == ATTEMPTS - 1:
                    raise
                log.warning("%s %s: %s; retrying", self.kind, name, error)
            await asyncio.sleep(2**attempt)

    async def _pass(self, name: str) -> None:
        PASSES.labels(self.kind).inc()
        obj = await self.kube.get(self.api_version, self.kind, name)
        if obj is None:
            return
        finalizers: list[str] = obj["metadata"].get("finalizers") or []
        if obj["metadata"].get("deletionTimestamp"):
            if self.finalizer in finalizers:
                left = await self.withdraw(obj)
                if left is None:
                    await self._set_finalizers(obj, [f for f in finalizers if f != self.finalizer])
                else:
                    await self.write_status(obj, left)
            return
        if self.finalizer not in finalizers:
            obj = await self._set_finalizers(obj, [*finalizers, self.finalizer])
        await self.write_status(obj, await self.deploy(obj))

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

    async def write_status(self, obj: dict[str, Any], status: dict[str, Any]) -> None:
        """One merge patch, only if something changed."""
        patch = status_patch(obj.get("status") or {}, status)
        if patch is not None:
            await self.kube.patch_status(self.api_version, self.kind, obj["metadata"]["name"], patch)


def status_patch(current: dict[str, Any], status: dict[str, Any]) -> dict[str, Any] | None:
    """The merge patch from `current` to `status` (fields no longer set become null); None if equal."""
    if status == current:
        return None
    return {**{key: None for key in current if key not in status}, **status}
