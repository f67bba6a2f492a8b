"""Install CustomResourceDefinitions and wait until the API server serves them.

A CRD of the same name that someone else installed (not labelled as kubetenancy's) is left alone: where
Cluster API is installed, its `clusters.cluster.x-k8s.io` is the real one and kubetenancy only reads it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from kubetenancy.k8s.client import Kube

CRD_API = "apiextensions.k8s.io/v1"
ESTABLISH_SECONDS = 30.0
OWNED_LABEL = ("app.kubernetes.io/part-of", "kubetenancy")


def _established(crd: dict[str, Any] | None) -> bool:
    conditions = (crd or {}).get("status", {}).get("conditions", [])
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def _someone_elses(crd: dict[str, Any] | None) -> bool:
    key, value = OWNED_LABEL
    return crd is not None and (crd["metadata"].get("labels") or {}).get(key) != value


async def ensure_crds(kube: Kube, manifests: Sequence[dict[str, Any]]) -> None:
    """Apply every CRD (except ones installed by someone else) and wait until all are Established."""
    for manifest in manifests:
        name = manifest["metadata"]["name"]
        if not _someone_elses(await kube.get(CRD_API, "CustomResourceDefinition", name)):
            await kube.apply_if_changed(manifest)
    async with asyncio.timeout(ESTABLISH_SECONDS):
        for manifest in manifests:
            name = manifest["metadata"]["name"]
            # Establishing takes milliseconds; a short poll is simpler than a watch here.
            while not _established(await kube.get(CRD_API, "CustomResourceDefinition", name)):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
