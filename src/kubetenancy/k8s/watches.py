"""Watch objects of any kind, filtered by label or name on the server, for as long as the caller iterates.

Connections that drop are resumed from the last resource version (or from scratch when it is too old,
which replays every object as ADDED), so callers see each change at least once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx2
from lightkube import ALL_NS, operators
from lightkube.core.resource import NamespacedResource
from lightkube.types import OnErrorAction, OnErrorResult

from kubetenancy.k8s.client import Kube, Object, _to_dict, resource_class

log = logging.getLogger(__name__)
BACKOFF_SECONDS = 5.0


def _retry(error: Exception, count: int) -> OnErrorResult:
    return OnErrorResult(OnErrorAction.RETRY, sleep=min(float(count), BACKOFF_SECONDS))


async def watch(
    kube: Kube,
    api_version: str,
    kind: str,
    *,
    label: str | None = None,
    namespace: str | None = None,
    name: str | None = None,
) -> AsyncIterator[tuple[str, Object]]:
    """(event type, object) for objects carrying `label` (any value), or the one named `name`."""
    resource = resource_class(api_version, kind)
    where = namespace if namespace is not None else ALL_NS if issubclass(resource, NamespacedResource) else None
    attempt = 0
    while True:
        try:
            async for event, obj in kube.client.watch(
                resource,
                namespace=where,
                labels={label: operators.exists()} if label else None,
                fields={"metadata.name": name} if name else None,
                on_error=_retry,
            ):
                attempt = 0
                yield event, _to_dict(obj)
        except httpx2.HTTPError as error:  # lightkube's ApiError is one too
            attempt += 1
            log.warning("watching %s %s failed (%s); watching again", api_version, kind, error)
            await asyncio.sleep(min(float(attempt), BACKOFF_SECONDS))
