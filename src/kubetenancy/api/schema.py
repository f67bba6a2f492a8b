"""Typed API models and their translation into structural OpenAPI schemas for CRDs.

Every served CRD is a pydantic model first; its CRD schema is derived here, so a field is written once.
The translation follows the CRD rules for structural schemas: no `$ref`, a `type` on every node,
`x-kubernetes-int-or-string` for quantities and `x-kubernetes-preserve-unknown-fields` for free-form
objects. It does no I/O.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema
from pydantic.alias_generators import to_camel

Schema = dict[str, Any]

QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)


def _quantity(value: int | str) -> int | str:
    if isinstance(value, str) and not re.match(QUANTITY_PATTERN, value):
        raise ValueError(f'"{value}" is not a quantity: use a number with an optional suffix, e.g. 500m or 2Gi')
    return value


Quantity = Annotated[
    int | str,
    AfterValidator(_quantity),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
"""A Kubernetes resource quantity such as `500m`, `2Gi` or `10`."""

FreeForm = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""An embedded object kept as written (manifests, values)."""


class ApiModel(BaseModel):
    """Base of every served API model: camelCase on the wire, unknown fields rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_wire(self) -> dict[str, Any]:
        """The object as the API server stores it: camelCase keys, unset fields left out."""
        result: dict[str, Any] = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        return result


_DROPPED_KEYWORDS = {"title", "default", "$defs", "additionalProperties"}


def structural(model: type[BaseModel]) -> Schema:
    """The structural OpenAPI v3 schema of `model`, as a CRD version's `openAPIV3Schema` wants it."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return _convert(raw, raw.get("$defs", {}))


def _convert(node: Schema, defs: dict[str, Schema]) -> Schema:
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _convert(merged, defs)
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        if len(options) == 1:
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            return _convert({**options[0], **rest}, defs)
    out: Schema = {k: v for k, v in node.items() if k not in _DROPPED_KEYWORDS}
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "properties" in node:
        out["type"] = "object"
        out["properties"] = {name: _convert(sub, defs) for name, sub in node["properties"].items()}
    additional = node.get("additionalProperties")
    if isinstance(additional, dict) and additional:
        out["additionalProperties"] = _convert(additional, defs)
    elif additional is True or (additional == {} and out.get("type") == "object"):
        out["x-kubernetes-preserve-unknown-fields"] = True
    if "items" in node:
        out["items"] = _convert(node["items"], defs)
    if "anyOf" in out:
        out["anyOf"] = [_convert(o, defs) for o in out["anyOf"]]
    if "type" not in out and not out.get("x-kubernetes-int-or-string"):
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out
