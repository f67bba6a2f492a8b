"""The one change kubetenancy makes to CAPA's CRDs: serve `v1beta1` of the three identity kinds again.

CAPA stopped serving `infrastructure.cluster.x-k8s.io/v1beta1` identities in v2.4.0 (the version stays in
the CRD, unserved), so published walkthroughs that apply v1beta1 identities (seed 003) fail with "no
matches for kind". The two versions have identical fields (CAPA converts them with generated code), so
serving v1beta1 again is lossless with either conversion strategy. Only `served` of `v1beta1` changes:
the storage version, schemas and conversion settings stay byte for byte. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from kubetenancy.api.capa import IDENTITY_KINDS

SERVED_AGAIN = "v1beta1"
IDENTITY_CRDS = frozenset(k.crd_name for k in IDENTITY_KINDS)


def serve_v1beta1(crd: dict[str, Any]) -> dict[str, Any] | None:
    """A merge patch (conditional on the CRD's resourceVersion) serving v1beta1, or None if not needed."""
    if crd["metadata"]["name"] not in IDENTITY_CRDS:
        return None
    versions: list[dict[str, Any]] = crd["spec"]["versions"]
    if not any(v["name"] == SERVED_AGAIN and not v.get("served") for v in versions):
        return None
    served = [{**v, "served": True} if v["name"] == SERVED_AGAIN else v for v in versions]
    return {"metadata": {"resourceVersion": crd["metadata"]["resourceVersion"]}, "spec": {"versions": served}}
