"""The aggregated API's pure parts: Spaces from namespaces, tables, ages, patches and who sees what."""

from __future__ import annotations

import datetime

import pytest

from kubetenancy.apiserver import discovery, objects
from kubetenancy.apiserver.discovery import api_resource_list
from kubetenancy.apiserver.visibility import Caller, sees_namespace, sees_tenant
from kubetenancy.frontdoors.kiosk import account_from_cr
from kubetenancy.frontdoors.tenantoperator import tenant_from_cr

NAMESPACE = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {
        "name": "node-space",
        "resourceVersion": "42",
        "creationTimestamp": "2026-11-23T10:00:00Z",
        "labels": {"kiosk.sh/account": "node-account"},
        "managedFields": [{"manager": "x"}],
    },
    "spec": {"finalizers": ["kubernetes"]},
    "status": {"phase": "Active"},
}


def test_a_space_is_its_namespace_seen_through_kiosk() -> None:
    space = objects.space(NAMESPACE)
    assert space["apiVersion"] == "tenancy.kiosk.sh/v1alpha1"
    assert space["kind"] == "Space"
    assert space["spec"] == {"account": "node-account", "finalizers": ["kubernetes"]}
    assert space["status"] == {"phase": "Active"}
    assert space["metadata"]["resourceVersion"] == "42"
    assert "managedFields" not in space["metadata"]


def test_tables_show_name_owner_and_age_like_kubectl() -> None:
    table = objects.table(objects.SPACES, [objects.space(NAMESPACE)], "42", "Metadata")
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Owner", "Age"]
    (row,) = table["rows"]
    assert row["cells"][:2] == ["node-space", "node-account"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert "object" not in objects.table(objects.SPACES, [objects.space(NAMESPACE)], "42", "None")["rows"][0]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (119, "119s"), (150, "2m30s"), (600, "10m"), (3 * 3600 + 60, "3h1m"), (30 * 3600, "30h"),
     (4 * 86400 + 7200, "4d2h"), (40 * 86400, "40d"), (3 * 365 * 86400, "3y"), (9 * 365 * 86400, "9y")],
)  # fmt: skip
def test_ages_read_as_kubernetes_writes_them(seconds: int, shown: str) -> None:
    assert objects.human_duration(seconds) == shown


def test_age_of_an_object() -> None:
    now = datetime.datetime(2026, 11, 23, 10, 5, tzinfo=datetime.UTC)
    assert objects.age("2026-11-23T10:00:00Z", now) == "5m"


def test_merge_patches_drop_strategic_directives_and_delete_nulls() -> None:
    target = {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1}}
    patch = {"metadata": {"labels": {"a": None, "c": "3"}, "$retainKeys": ["labels"]}, "spec": {"$patch": "merge"}}
    assert objects.merge_patch(target, patch) == {"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"x": 1}}


def test_discovery_lists_spaces_and_accounts_with_their_verbs() -> None:
    resources = {r["name"]: r for r in api_resource_list()["resources"]}
    assert resources.keys() == {"spaces", "accounts"}
    assert {"list", "watch", "create", "delete"} <= set(resources["spaces"]["verbs"])
    assert resources["spaces"]["namespaced"] is False


def test_who_sees_which_space() -> None:
    tenants = {
        "node-account": account_from_cr("node-account", {"subjects": [{"kind": "User", "name": "dev"}]}, None),
        "mto": tenant_from_cr(
            "mto",
            {"quota": "q", "accessControl": {"owners": {"users": ["o"]}, "viewers": {"groups": ["ops"]}},
             "namespaces": {"sandboxes": {"enabled": True, "private": True}}},
            None,
        ),
    }  # fmt: skip
    dev, owner, operator = Caller("dev", ()), Caller("o", ()), Caller("x", ("ops",))
    assert sees_namespace(dev, "node-space", {"kiosk.sh/account": "node-account"}, tenants)
    assert not sees_namespace(owner, "node-space", {"kiosk.sh/account": "node-account"}, tenants)
    assert not sees_namespace(dev, "kube-system", {}, tenants)
    assert sees_namespace(operator, "mto-dev", {"stakater.com/tenant": "mto"}, tenants)
    assert sees_namespace(owner, "mto-o-sandbox", {"stakater.com/tenant": "mto"}, tenants)
    assert not sees_namespace(operator, "mto-o-sandbox", {"stakater.com/tenant": "mto"}, tenants)
    assert sees_tenant(dev, tenants["node-account"])
    assert not sees_tenant(dev, tenants["mto"])
    assert not sees_tenant(dev, None)


def test_openapi_documents_name_each_kind_and_its_paths() -> None:
    v2, v3 = discovery.openapi_v2(), discovery.openapi_v3()
    for kind in ("Space", "Account"):
        schema = v2["definitions"][f"sh.kiosk.tenancy.v1alpha1.{kind}"]
        assert schema["x-kubernetes-group-version-kind"] == [
            {"group": "tenancy.kiosk.sh", "version": "v1alpha1", "kind": kind}
        ]
        assert v3["components"]["schemas"][f"sh.kiosk.tenancy.v1alpha1.{kind}"] == schema
    item = v2["paths"]["/apis/tenancy.kiosk.sh/v1alpha1/spaces/{name}"]
    assert {"get", "put", "patch", "delete"} <= item.keys()
    assert item["get"]["responses"]["200"]["schema"] == {"$ref": "#/definitions/sh.kiosk.tenancy.v1alpha1.Space"}
    listed = v3["paths"]["/apis/tenancy.kiosk.sh/v1alpha1/accounts"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"]["$ref"].endswith("AccountList")
    assert v2["definitions"]["sh.kiosk.tenancy.v1alpha1.Space"]["properties"]["spec"]["properties"]["account"]
