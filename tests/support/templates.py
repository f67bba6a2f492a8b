"""Templates and template instances in tests: apply them and wait for what the operator reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubetenancy.k8s import Kube
from tests.support.waiting import eventually

KIOSK = "config.kiosk.sh/v1alpha1"
MTO = "tenantoperator.stakater.com/v1alpha1"
GC_SECONDS = 120.0
"""The garbage collector picks up a new CRD on its 30 s discovery resync, so allow for two."""


def config_map(name: str, data: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


async def apply_template(
    admin: Kube, api: str, name: str, manifests: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    resources = {"manifests": manifests, **fields.pop("resources", {})}
    return await admin.apply(
        {"apiVersion": api, "kind": "Template", "metadata": {"name": name}, "resources": resources, **fields}
    )


async def apply_instance(
    admin: Kube, api: str, name: str, namespace: str, template: str, *, sync: bool = False, **params: str
) -> dict[str, Any]:
    spec: dict[str, Any] = {"template": template, "sync": sync}
    if params:
        spec["parameters"] = [{"name": k, "value": v} for k, v in params.items()]
    metadata = {"name": name, "namespace": namespace}
    return await admin.apply({"apiVersion": api, "kind": "TemplateInstance", "metadata": metadata, "spec": spec})


async def status_when(
    admin: Kube, api: str, kind: str, name: str, namespace: str | None, check: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The instance's status once `check(status)` holds."""
    status: dict[str, Any] = {}

    async def holds() -> bool:
        nonlocal status
        found = await admin.get(api, kind, name, namespace)
        status = (found or {}).get("status") or {}
        return check(status)

    await eventually(holds)
    return status


async def instance_status(admin: Kube, api: str, name: str, namespace: str, wanted: str) -> dict[str, Any]:
    """A TemplateInstance's status once its `status` is `wanted` (Deployed or Failed)."""
    return await status_when(admin, api, "TemplateInstance", name, namespace, lambda s: s.get("status") == wanted)


async def gone(admin: Kube, api_version: str, kind: str, name: str, namespace: str) -> None:
    async def deleted() -> bool:
        return await admin.get(api_version, kind, name, namespace) is None

    await eventually(deleted, within=GC_SECONDS)
