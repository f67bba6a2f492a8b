"""Cluster API AWS's own CRDs (from its Go module, the pinned release) installed on a test cluster.

The CRDs are read from `config/crd/bases` of the module's source in Go's module cache; CAPA's kustomize
layer adds the label `cluster.x-k8s.io/v1beta1: v1beta1_v1beta2` (Cluster API resolves references by it),
which is added here the same way. Conversion webhooks are not configured (only v1beta2 is used).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from kubetenancy.k8s import Kube
from kubetenancy.k8s.crds import CRD_API
from kubetenancy.localcluster.gobuild import CAPA, CAPI, Target, module_source
from tests.support.waiting import eventually

CONTRACT_LABEL = {"cluster.x-k8s.io/v1beta1": "v1beta1_v1beta2"}
IDENTITY_CRDS = (
    "infrastructure.cluster.x-k8s.io_awsclustercontrolleridentities.yaml",
    "infrastructure.cluster.x-k8s.io_awsclusterroleidentities.yaml",
    "infrastructure.cluster.x-k8s.io_awsclusterstaticidentities.yaml",
)
CONSUMER_CRDS = (
    "infrastructure.cluster.x-k8s.io_awsclusters.yaml",
    "controlplane.cluster.x-k8s.io_awsmanagedcontrolplanes.yaml",
)


def crds(target: Target, files: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The CRDs of `target`'s `config/crd/bases` (all, or the named files), labelled as kustomize would."""
    bases = module_source(target) / "config" / "crd" / "bases"
    paths = [bases / f for f in files] if files is not None else sorted(bases.glob("*.yaml"))
    found = []
    for path in paths:
        crd = yaml.safe_load(Path(path).read_text())
        if target is CAPA:
            crd["metadata"].setdefault("labels", {}).update(CONTRACT_LABEL)
        found.append(crd)
    return found


def capi_crds() -> list[dict[str, Any]]:
    return crds(CAPI)


async def install(admin: Kube, manifests: list[dict[str, Any]]) -> None:
    """Apply the CRDs and wait until each is Established."""
    for crd in manifests:
        await admin.apply(crd)
    for crd in manifests:

        async def established(name: str = crd["metadata"]["name"]) -> bool:
            live = await admin.get(CRD_API, "CustomResourceDefinition", name) or {}
            conditions = (live.get("status") or {}).get("conditions", [])
            return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

        await eventually(established)
