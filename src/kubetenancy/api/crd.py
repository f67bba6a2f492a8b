"""CustomResourceDefinitions derived from typed models.

A `ServedKind` names a kind and points at its spec (and status) model; `crd_manifest` turns it into the
CRD object the operator applies and `deploy/crds/` ships. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from kubetenancy.api.schema import Schema, structural


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: Literal["string", "integer", "number", "boolean", "date"] = "string"
    description: str = ""

    def to_wire(self) -> dict[str, str]:
        column = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description:
            column["description"] = self.description
        return column


@dataclass(frozen=True)
class ServedKind:
    """One version of one kind that kubetenancy serves as a CRD."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    spec: type[BaseModel] | None
    status: type[BaseModel] | None = None
    description: str = ""
    short_names: tuple[str, ...] = ()
    printer_columns: tuple[PrinterColumn, ...] = field(default_factory=tuple)
    spec_required: bool = True
    top_level: type[BaseModel] | None = None
    """Fields beside `spec` at the top of the object (Kiosk's Template has only these: no spec)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"

    @property
    def qualified_kind(self) -> str:
        """As the API server names the kind in messages: `Tenant.tenantoperator.stakater.com`."""
        return f"{self.kind}.{self.group}"

    def path(self, namespace: str | None = None) -> str:
        """The collection's URL path on the API server."""
        where = f"/namespaces/{namespace}" if namespace else ""
        return f"/apis/{self.group}/{self.version}{where}/{self.plural}"

    def schema(self) -> Schema:
        properties: dict[str, Any] = {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
        }
        if self.spec is not None:
            properties["spec"] = structural(self.spec)
        if self.top_level is not None:
            properties.update(structural(self.top_level)["properties"])
        if self.status is not None:
            properties["status"] = structural(self.status)
        schema: Schema = {"type": "object", "properties": properties}
        if self.description:
            schema["description"] = self.description
        if self.spec is not None and self.spec_required:
            schema["required"] = ["spec"]
        return schema


def crd_manifest(kinds: list[ServedKind]) -> dict[str, Any]:
    """The CRD of one kind; `kinds` are its served versions, the last one being the storage version."""
    first = kinds[0]
    if any(
        (k.group, k.kind, k.plural, k.namespaced) != (first.group, first.kind, first.plural, first.namespaced)
        for k in kinds
    ):
        raise ValueError(f"versions of one CRD must agree on group, kind, plural and scope: {kinds}")
    versions = []
    for kind in kinds:
        version: dict[str, Any] = {
            "name": kind.version,
            "served": True,
            "storage": kind is kinds[-1],
            "schema": {"openAPIV3Schema": kind.schema()},
        }
        if kind.status is not None:
            version["subresources"] = {"status": {}}
        if kind.printer_columns:
            columns = [c.to_wire() for c in kind.printer_columns]
            version["additionalPrinterColumns"] = [
                *columns,
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            ]
        versions.append(version)
    names: dict[str, Any] = {
        "kind": first.kind,
        "listKind": f"{first.kind}List",
        "plural": first.plural,
        "singular": first.kind.lower(),
    }
    if first.short_names:
        names["shortNames"] = list(first.short_names)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": first.crd_name, "labels": {"app.kubernetes.io/part-of": "kubetenancy"}},
        "spec": {
            "group": first.group,
            "names": names,
            "scope": "Namespaced" if first.namespaced else "Cluster",
            "versions": versions,
        },
    }
