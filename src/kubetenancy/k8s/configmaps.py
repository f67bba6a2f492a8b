"""Change one ConfigMap's data with optimistic concurrency: read, change, write back, retry on conflict.

The whole object goes back with the resourceVersion it was read at, so a concurrent writer is never
overwritten; everything the change function does not touch is written back exactly as read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubetenancy.k8s.client import ApiError, Kube

ATTEMPTS = 5


async def update_data(
    kube: Kube, namespace: str, name: str, change: Callable[[dict[str, str]], dict[str, str]], *, create: bool
) -> dict[str, Any]:
    for attempt in range(ATTEMPTS):
        current = await kube.get("v1", "ConfigMap", name, namespace)
        if current is None:
            if not create:
                raise LookupError(f'configmap "{name}" not found in namespace "{namespace}"')
            fresh = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}}
            fresh["data"] = change({})
            try:
                return await kube.create(fresh)
            except ApiError as error:
                if error.status.code != 409 or attempt == ATTEMPTS - 1:
                    raise
                continue
        updated = {**current, "data": change(dict(current.get("data") or {}))}
        try:
            return await kube.replace(updated)
        except ApiError as error:
            if error.status.code != 409 or attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
