"""Discovery and OpenAPI documents of the aggregated API: what `kubectl api-resources`, `kubectl explain`,
kubectl's client-side apply and the aggregator read. Schemas come from the same typed models that
validate what clients send. Pure."""

from __future__ import annotations

from typing import Any

from kubetenancy.api.kiosk import TENANCY_GROUP, VERSION, AccountSpec, AccountStatus, SpaceSpec
from kubetenancy.api.schema import Schema, structural
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


PREFIX = "sh.kiosk.tenancy.v1alpha1"
SPACE_STATUS: Schema = {
    "type": "object",
    "description": "The namespace's phase.",
    "properties": {"phase": {"type": "string", "description": "Active or Terminating."}},
}


def _object_schema(served: Served, description: str, spec: Schema, status: Schema) -> Schema:
    return {
        "type": "object",
        "description": description,
        "properties": {
            "apiVersion": {"type": "string", "description": "tenancy.kiosk.sh/v1alpha1"},
            "kind": {"type": "string", "description": served.kind},
            "metadata": {"type": "object", "description": "Standard object metadata."},
            "spec": spec,
            "status": status,
        },
        "x-kubernetes-group-version-kind": [{"group": TENANCY_GROUP, "version": VERSION, "kind": served.kind}],
    }


def _list_schema(served: Served, item_ref: str) -> Schema:
    return {
        "type": "object",
        "description": f"A list of {served.plural}.",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "items": {"type": "array", "items": {"$ref": item_ref}},
        },
        "x-kubernetes-group-version-kind": [{"group": TENANCY_GROUP, "version": VERSION, "kind": f"{served.kind}List"}],
    }


def schemas(ref_prefix: str) -> dict[str, Schema]:
    """The named schemas of Space, Account and their lists; `ref_prefix` is where references point."""
    space = _object_schema(
        SPACES, "A namespace, as the accounts that own it see it.", structural(SpaceSpec), SPACE_STATUS
    )
    account = _object_schema(
        ACCOUNTS, "A tenant: its users and how its spaces are made.", structural(AccountSpec), structural(AccountStatus)
    )
    return {
        f"{PREFIX}.Space": space,
        f"{PREFIX}.SpaceList": _list_schema(SPACES, f"{ref_prefix}{PREFIX}.Space"),
        f"{PREFIX}.Account": account,
        f"{PREFIX}.AccountList": _list_schema(ACCOUNTS, f"{ref_prefix}{PREFIX}.Account"),
    }


def _operations(served: Served, ref: str, v3: bool) -> dict[str, Schema]:
    """The paths of one resource, each operation tagged with its kind as Kubernetes' own specs are."""
    gvk = {"group": TENANCY_GROUP, "version": VERSION, "kind": served.kind}

    def body(schema: str) -> Schema:
        return (
            {"content": {"application/json": {"schema": {"$ref": ref + schema}}}}
            if v3
            else {"schema": {"$ref": ref + schema}}
        )

    def operation(action: str, verb: str, returns: str, takes: str | None = None) -> Schema:
        op: Schema = {
            "operationId": f"{verb}{served.kind}",
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
            "responses": {"200": {"description": "OK", **body(returns)}},
        }
        if takes is not None:
            if v3:
                op["requestBody"] = body(takes)
            else:
                op["parameters"] = [{"name": "body", "in": "body", "required": True, **body(takes)}]
        return op

    kind, list_kind = f"{PREFIX}.{served.kind}", f"{PREFIX}.{served.kind}List"
    name = {"name": "name", "in": "path", "required": True}
    name.update({"schema": {"type": "string"}} if v3 else {"type": "string"})
    collection = f"/apis/{TENANCY_GROUP}/{VERSION}/{served.plural}"
    return {
        collection: {
            "get": operation("list", "list", list_kind),
            "post": operation("post", "create", kind, kind),
        },
        collection + "/{name}": {
            "parameters": [name],
            "get": operation("get", "read", kind),
            "put": operation("put", "replace", kind, kind),
            "patch": operation("patch", "patch", kind),
            "delete": operation("delete", "delete", kind),
        },
    }


def _paths(ref: str, v3: bool) -> dict[str, Schema]:
    return {path: ops for served in SERVED for path, ops in _operations(served, ref, v3).items()}


def openapi_v2() -> Schema:
    return {
        "swagger": "2.0",
        "info": {"title": "kubetenancy tenancy.kiosk.sh", "version": VERSION},
        "paths": _paths("#/definitions/", v3=False),
        "definitions": schemas("#/definitions/"),
    }


def openapi_v3_paths(base_url: str) -> Schema:
    return {"paths": {f"apis/{TENANCY_GROUP}/{VERSION}": {"serverRelativeURL": base_url}}}


def openapi_v3() -> Schema:
    return {
        "openapi": "3.0.0",
        "info": {"title": "kubetenancy tenancy.kiosk.sh", "version": VERSION},
        "paths": _paths("#/components/schemas/", v3=True),
        "components": {"schemas": schemas("#/components/schemas/")},
    }
