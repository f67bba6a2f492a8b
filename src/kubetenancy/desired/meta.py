"""Metadata every managed object carries: who manages it, which tenant it belongs to, who owns it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubetenancy.model import MANAGED_BY, TENANT_LABEL


@dataclass(frozen=True)
class OwnerRef:
    """The custom resource a tenant came from; objects it owns are garbage-collected with it."""

    api_version: str
    kind: str
    name: str
    uid: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "blockOwnerDeletion": False,
        }


def managed_metadata(
    name: str,
    tenant: str,
    *,
    namespace: str | None = None,
    owner: OwnerRef | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "labels": {**(labels or {}), **MANAGED_BY, TENANT_LABEL: tenant},
    }
    if namespace is not None:
        metadata["namespace"] = namespace
    if annotations:
        metadata["annotations"] = dict(annotations)
    if owner is not None:
        metadata["ownerReferences"] = [owner.to_wire()]
    return metadata
