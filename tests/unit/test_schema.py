"""CRD schemas generated from the typed models are structural and say what the models say."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field, ValidationError

from kubetenancy.api import SERVED_CRDS, crd_manifests
from kubetenancy.api.schema import ApiModel, FreeForm, Quantity, structural
from kubetenancy.api.tenantoperator import QuotaSpec


def walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    nodes = [(path, node)]
    for name, sub in node.get("properties", {}).items():
        nodes += walk(sub, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        nodes += walk(node["additionalProperties"], f"{path}[*]")
    if "items" in node:
        nodes += walk(node["items"], f"{path}[]")
    return nodes


@pytest.mark.parametrize("manifest", crd_manifests(), ids=lambda m: m["metadata"]["name"])
def test_every_node_is_structural(manifest: dict[str, Any]) -> None:
    for version in manifest["spec"]["versions"]:
        for path, node in walk(version["schema"]["openAPIV3Schema"]):
            assert "$ref" not in node, path
            assert "title" not in node, path
            typed = (
                "type" in node
                or node.get("x-kubernetes-int-or-string")
                or node.get("x-kubernetes-preserve-unknown-fields")
            )
            assert typed, f"{path} has no type"


def test_every_field_of_a_served_model_is_described() -> None:
    for versions in SERVED_CRDS:
        for kind in versions:
            for path, node in walk(kind.schema()):
                envelope = path in ("", ".apiVersion", ".kind", ".metadata", ".spec", ".status")
                if not envelope and not path.endswith(("[*]", "[]")):
                    assert node.get("description"), f"{kind.kind}{path} has no description"


class Example(ApiModel):
    max_count: int = Field(description="A count.")
    amount: Quantity = Field(description="A quantity.")
    values: FreeForm | None = Field(None, description="Anything.")


def test_camel_case_quantities_and_free_form_objects() -> None:
    schema = structural(Example)
    assert schema["required"] == ["maxCount", "amount"]
    assert schema["properties"]["amount"]["x-kubernetes-int-or-string"] is True
    assert schema["properties"]["values"] == {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
        "description": "Anything.",
    }
    assert Example(max_count=1, amount="2Gi").to_wire() == {"maxCount": 1, "amount": "2Gi"}


def test_quantities_are_checked_in_the_model_too() -> None:
    with pytest.raises(ValidationError, match='"five" is not a quantity'):
        QuotaSpec.model_validate({"resourcequota": {"hard": {"requests.cpu": "five"}}})


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="resourceQuota"):
        QuotaSpec.model_validate({"resourceQuota": {}})


def test_quota_crd_matches_mto() -> None:
    (quota,) = (m for m in crd_manifests() if m["metadata"]["name"] == "quotas.tenantoperator.stakater.com")
    assert quota["spec"]["scope"] == "Cluster"
    assert [v["name"] for v in quota["spec"]["versions"]] == ["v1beta1"]
    spec = quota["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert set(spec) == {"resourcequota", "limitrange"}
    item = spec["limitrange"]["properties"]["limits"]["items"]["properties"]
    assert set(item) == {"type", "max", "min", "default", "defaultRequest", "maxLimitRequestRatio"}
