"""MTO Templates: copies of Secrets and ConfigMaps, TemplateInstances and TemplateGroupInstances."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubetenancy.k8s import Kube
from kubetenancy.template_model import INSTANCE_LABEL
from tests.support.templates import (
    MTO,
    apply_instance,
    apply_template,
    config_map,
    gone,
    instance_status,
    status_when,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def labelled(admin: Kube, namespace: str) -> AsyncIterator[Any]:
    """Makes namespaces named after the test's, with labels; deletes them afterwards."""
    made: list[str] = []

    async def make(suffix: str, labels: dict[str, str]) -> str:
        name = f"{namespace}-{suffix}"
        await admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
        made.append(name)
        return name

    yield make
    for name in made:
        await admin.delete("v1", "Namespace", name)


async def test_resource_mappings_copy_a_secret_and_a_config_map(
    operator: str, admin: Kube, namespace: str, labelled: Any
) -> None:
    tenant = {"stakater.com/tenant": f"t-{namespace}"[:63]}
    source = await labelled("src", tenant)
    target = await labelled("dst", tenant)
    other_tenant = await labelled("other", {"stakater.com/tenant": "someone-else"})
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "registry", "namespace": source}}
    await admin.create({**secret, "type": "Opaque", "stringData": {"token": "one"}})
    await admin.create(config_map("settings", {"a": "b"}, source))
    template = f"copies-{namespace}"
    mappings = {
        "secrets": [{"name": "registry", "namespace": source}],
        "configMaps": [{"name": "settings", "namespace": source}],
    }
    await apply_template(admin, MTO, template, [], resources={"resourceMappings": mappings})
    await apply_instance(admin, MTO, "copies", target, template, sync=True)

    status = await instance_status(admin, MTO, "copies", target, "Deployed")
    assert status["mappedSecrets"] == {f"{source}/registry": {"status": "Deployed"}}
    assert status["mappedConfigmaps"] == {f"{source}/settings": {"status": "Deployed"}}
    copied = await admin.get("v1", "Secret", "registry", target)
    assert copied is not None
    assert copied["type"] == "Opaque"
    assert copied["metadata"]["labels"][INSTANCE_LABEL]
    settings = await admin.get("v1", "ConfigMap", "settings", target)
    assert settings is not None
    assert settings["data"] == {"a": "b"}

    await admin.apply({**secret, "stringData": {"token": "two"}})  # the source changes: so do its copies

    async def followed() -> bool:
        found = await admin.get("v1", "Secret", "registry", target)
        return found is not None and found["data"]["token"] == "dHdv"

    await eventually(followed)

    # A TemplateInstance copies only within its tenant (MTO's rule); the status says why not.
    await apply_instance(admin, MTO, "copies", other_tenant, template)
    status = await instance_status(admin, MTO, "copies", other_tenant, "Failed")
    assert status["reason"] == "MappingFailed"
    assert "a TemplateInstance copies only within its tenant" in status["mappedSecrets"][f"{source}/registry"]["reason"]
    assert await admin.get("v1", "Secret", "registry", other_tenant) is None


async def test_group_instance_follows_its_selector(operator: str, admin: Kube, namespace: str, labelled: Any) -> None:
    selector_label = f"tgi-{namespace}"[:63]
    first = await labelled("a", {selector_label: "yes", "stakater.com/tenant": "alpha"})
    await labelled("b", {selector_label: "no"})
    template = f"tgi-{namespace}"
    manifest = config_map("info-${namespace}", {"tenant": "${tenant}", "cidr": "${CIDR}"})
    await apply_template(admin, MTO, template, [manifest], parameters=[{"name": "CIDR", "value": "10.0.0.0/8"}])
    name = f"tgi-{namespace}"
    group = {
        "apiVersion": MTO,
        "kind": "TemplateGroupInstance",
        "metadata": {"name": name},
        "spec": {"template": template, "sync": True, "selector": {"matchLabels": {selector_label: "yes"}}},
        "parameters": [{"name": "CIDR", "value": "172.17.0.0/16"}],  # where MTO's documentation puts them
    }
    await admin.apply(group)

    def deployed_into(*namespaces: str) -> Any:
        def check(status: dict[str, Any]) -> bool:
            ready = [c for c in status.get("conditions", []) if c["type"] == "Ready"]
            deployed = status.get("deployedNamespaces") or {}
            return bool(ready) and ready[0]["status"] == "True" and set(deployed) == set(namespaces)

        return check

    status = await status_when(admin, MTO, "TemplateGroupInstance", name, None, deployed_into(first))
    assert status["namespaceCount"] == 1
    info = await admin.get("v1", "ConfigMap", f"info-{first}", first)
    assert info is not None
    assert info["data"] == {"tenant": "alpha", "cidr": "172.17.0.0/16"}
    assert await admin.get("v1", "ConfigMap", f"info-{namespace}-b", f"{namespace}-b") is None

    later = await labelled("c", {})  # a namespace that starts matching later gets the template
    await labelled("c", {selector_label: "yes"})
    await status_when(admin, MTO, "TemplateGroupInstance", name, None, deployed_into(first, later))
    assert await admin.get("v1", "ConfigMap", f"info-{later}", later) is not None

    await admin.create(config_map("kept", {"mine": "yes"}, first))
    await labelled("a", {"stakater.com/tenant": "alpha"})  # it stops matching: what the TGI made there goes
    await status_when(admin, MTO, "TemplateGroupInstance", name, None, deployed_into(later))
    assert await admin.get("v1", "ConfigMap", f"info-{first}", first) is None
    assert await admin.get("v1", "ConfigMap", "kept", first) is not None

    await admin.delete(MTO, "TemplateGroupInstance", name)
    await gone(admin, "v1", "ConfigMap", f"info-{later}", later)
