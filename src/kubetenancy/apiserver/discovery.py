"""Discovery documents of the aggregated API: what `kubectl api-resources` and the aggregator read. Pure."""

from __future__ import annotations

from typing import Any

from kubetenancy.api.kiosk import TENANCY_GROUP, VERSION
from kubetenancy.apiserver.objects import ACCOUNTS, API_VERSION, SPACES, Served

SERVED = (SPACES, ACCOUNTS)


def api_group() -> dict[str, Any]:
    version = {"groupVersion": API_VERSION, "version": VERSION}
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": TENANCY_GROUP,
        "versions": [version],
        "preferredVersion": version,
    }


def api_group_list() -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [api_group()]}


def _resource(served: Served) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "name": served.plural,
        "singularName": served.singular,
        "namespaced": False,
        "kind": served.kind,
        "verbs": list(served.verbs),
    }
    if served.short_names:
        resource["shortNames"] = list(served.short_names)
    return resource


def api_resource_list() -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": API_VERSION,
        "resources": [_resource(served) for served in SERVED],
    }
