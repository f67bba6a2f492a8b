"""The one applier: server-side apply a desired set, and prune what was ours but is no longer wanted.

Ownership is by label (managed-by kubetenancy plus the tenant label, or the labels a caller selects by);
only the kinds the caller lists (`PRUNABLE` for tenants) are ever deleted, and Namespaces are never among
them: a tenant's namespaces and their data are never deleted here (namespace purge is left to the garbage
collector through owner references).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from kubetenancy.k8s.client import Kube, Object
from kubetenancy.model import MANAGED_BY, TENANT_LABEL

Key = tuple[str, str, str, str]
"""(apiVersion, kind, namespace or "", name)."""

PRUNABLE: tuple[tuple[str, str], ...] = (
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),  # what members may read of their tenant, by name
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
)
"""The built-in kinds a tenant's objects are of; callers add their own (a tenant's mandatory templates)."""
Kinds = Sequence[tuple[str, str]]
CONCURRENCY = 8


def key(obj: Object) -> Key:
    meta = obj["metadata"]
    return obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"]


def _selector(tenant: str) -> dict[str, str]:
    return {**MANAGED_BY, TENANT_LABEL: tenant}


async def apply_all(kube: Kube, objects: Sequence[Object]) -> None:
    """Namespaces first (others live in them), ClusterRoles next (so whoever a RoleBinding lets in may already
    read the namespace by name), then the rest with bounded concurrency."""
    first = ("Namespace", "ClusterRole")
    namespaces = [o for o in objects if o["kind"] == "Namespace"]
    cluster_roles = [o for o in objects if o["kind"] == "ClusterRole"]
    others = [o for o in objects if o["kind"] not in first]
    limit = asyncio.Semaphore(CONCURRENCY)

    async def apply(obj: Object) -> None:
        async with limit:
            await kube.apply(obj)

    for batch in (namespaces, cluster_roles, others):
        await asyncio.gather(*(apply(o) for o in batch))


async def selected_keys(kube: Kube, selector: Mapping[str, str], kinds: Kinds) -> set[Key]:
    """Every object of `kinds` carrying all the `selector` labels."""
    found: set[Key] = set()
    for api_version, kind in kinds:
        for obj in await kube.list(api_version, kind, labels=selector):
            found.add((api_version, kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))
    return found


async def live_keys(kube: Kube, tenant: str, kinds: Kinds) -> set[Key]:
    """Every object of `kinds` currently labelled as kubetenancy's for `tenant`."""
    return await selected_keys(kube, _selector(tenant), kinds)


async def sync_selected(kube: Kube, objects: Sequence[Object], selector: Mapping[str, str], kinds: Kinds) -> None:
    """Apply every object, then delete those of `kinds` labelled with `selector` that are not among them."""
    await apply_all(kube, objects)
    wanted = {key(o) for o in objects}
    for api_version, kind, namespace, name in (await selected_keys(kube, selector, kinds)) - wanted:
        await kube.delete(api_version, kind, name, namespace or None)


async def sync(kube: Kube, tenant: str, objects: Sequence[Object], kinds: Kinds, *, prune: bool = True) -> None:
    """Apply every object, then (unless `prune` is off) delete ours of `kinds` that the desired set no longer has."""
    if prune:
        await sync_selected(kube, objects, _selector(tenant), kinds)
    else:
        await apply_all(kube, objects)


async def repair(kube: Kube, tenant: str, objects: Sequence[Object], kinds: Kinds, namespaces: set[str]) -> None:
    """Read-only unless something is missing: re-apply only objects (or namespaces) that are gone."""
    live = await live_keys(kube, tenant, kinds)
    missing: list[dict[str, Any]] = []
    for obj in objects:
        if obj["kind"] == "Namespace":
            if obj["metadata"]["name"] not in namespaces:
                missing.append(obj)
        elif key(obj) not in live:
            missing.append(obj)
    if missing:
        await apply_all(kube, missing)
