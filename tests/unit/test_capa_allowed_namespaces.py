"""CAPA's allowedNamespaces semantics (its code, not its book), identity chains and the identity index."""

from __future__ import annotations

from typing import Any

import pytest

from kubetenancy.cloud.allowed_namespaces import allows, describe, warnings
from kubetenancy.cloud.identity_chain import walk
from kubetenancy.cloud.identity_index import IdentityIndex
from kubetenancy.frontdoors.capa import DEFAULT_IDENTITY, allowance, cluster_from_cr, identity_from_cr
from kubetenancy.model import IdentityKey

TENANT = {"stakater.com/tenant": "logistics"}
OTHER = {"stakater.com/tenant": "retail"}

# (allowedNamespaces as written, namespace, its labels (None: no such namespace), allowed?, what CAPA's book says)
TABLE: list[tuple[str, Any, str, dict[str, str] | None, bool]] = [
    ("absent", None, "a", TENANT, False),
    ("{} allows all", {}, "a", {}, True),
    ("{} allows cluster-scoped objects too", {}, "", None, True),
    ("list: null, selector: {} is the zero value (book: none)", {"list": None, "selector": {}}, "a", {}, True),
    ("selector: {} is the zero value (book: none)", {"selector": {}}, "a", {}, True),
    ("list: [] allows none", {"list": []}, "a", TENANT, False),
    ("list: [], selector: {} allows none", {"list": [], "selector": {}}, "a", TENANT, False),
    ("listed", {"list": ["a", "b"]}, "b", {}, True),
    ("not listed", {"list": ["a"]}, "c", TENANT, False),
    ("matchLabels: {} allows none", {"selector": {"matchLabels": {}}}, "a", TENANT, False),
    ("matchExpressions: [] allows none", {"selector": {"matchExpressions": []}}, "a", TENANT, False),
    ("selector matches", {"selector": {"matchLabels": TENANT}}, "a", {**TENANT, "x": "y"}, True),
    ("selector does not match", {"selector": {"matchLabels": TENANT}}, "a", OTHER, False),
    ("selector, no such namespace", {"selector": {"matchLabels": TENANT}}, "a", None, False),
    ("list or selector (union)", {"list": ["b"], "selector": {"matchLabels": TENANT}}, "b", OTHER, True),
    (
        "matchLabels and matchExpressions (intersection)",
        {
            "selector": {
                "matchLabels": TENANT,
                "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}],
            }
        },
        "a",
        TENANT,
        False,
    ),
    (
        "NotIn holds for a namespace without the label",
        {"selector": {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}},
        "a",
        {},
        True,
    ),
    (
        "DoesNotExist",
        {"selector": {"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}},
        "a",
        {"env": "dev"},
        False,
    ),
    ("Exists", {"selector": {"matchExpressions": [{"key": "env", "operator": "Exists"}]}}, "a", {"env": ""}, True),
]


@pytest.mark.parametrize(("case", "written", "namespace", "labels", "allowed"), TABLE, ids=[row[0] for row in TABLE])
def test_capa_semantics(case: str, written: Any, namespace: str, labels: dict[str, str] | None, allowed: bool) -> None:
    assert allows(allowance(written), namespace, labels) is allowed


def test_descriptions() -> None:
    assert describe(allowance(None)) == "no namespace (allowedNamespaces not set)"
    assert describe(allowance({"selector": {}})) == "every namespace"
    assert describe(allowance({"list": ["a"], "selector": {"matchLabels": TENANT}})) == (
        "namespaces a or namespaces labelled stakater.com/tenant=logistics"
    )
    assert describe(allowance({"selector": {"matchLabels": {}}})).startswith("no namespace")


def test_warnings_name_what_each_spelling_really_does() -> None:
    (everything,) = warnings(allowance({}), "AWSClusterRoleIdentity managed-account")
    assert everything.startswith(
        "spec.allowedNamespaces: {} (or selector: {}, which CAPA's book says matches none) "
        "lets every namespace use AWSClusterRoleIdentity managed-account: any tenant's"
    )
    (selector,) = warnings(allowance({"selector": {}}), "X")
    assert selector == warnings(allowance({}), "X")[0]
    (nothing,) = warnings(allowance({"selector": {"matchLabels": {}}}), "X")
    assert "matchLabels: {} matches no namespace" in nothing
    assert "so no namespace may use X" in nothing
    assert "is not set: CAPA lets no namespace use X" in warnings(allowance(None), "X")[0]
    assert warnings(allowance({"selector": {"matchLabels": TENANT}}), "X") == []


def role(name: str, source: tuple[str, str] | None, allowed: Any = None, arn: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"roleARN": arn or f"arn:aws:iam::111111111111:role/{name}", "allowedNamespaces": allowed}
    if source:
        spec["sourceIdentityRef"] = {"kind": source[0], "name": source[1]}
    return {"kind": "AWSClusterRoleIdentity", "metadata": {"name": name}, "spec": spec}


CONTROLLER = {
    "kind": "AWSClusterControllerIdentity",
    "metadata": {"name": "default"},
    "spec": {"allowedNamespaces": {}},
}


def index_of(*objects: dict[str, Any]) -> IdentityIndex:
    index = IdentityIndex()
    for obj in objects:
        index.put_identity(identity_from_cr(obj))
    return index


def test_chain_walks_to_the_controller_and_lands_in_the_first_roles_account() -> None:
    index = index_of(
        CONTROLLER,
        role("hub", ("AWSClusterControllerIdentity", "default"), {}, "arn:aws:iam::222222222222:role/hub"),
        role("managed", ("AWSClusterRoleIdentity", "hub"), {"list": ["a"]}),
    )
    chain = index.chain(IdentityKey("AWSClusterRoleIdentity", "managed"))
    assert chain.describe() == "RoleIdentity/managed -> RoleIdentity/hub -> ControllerIdentity/default"
    assert chain.landing_account == "111111111111"
    assert not chain.problem


def test_chain_problems_loops_missing_and_misnamed_controller() -> None:
    index = index_of(role("a", ("AWSClusterRoleIdentity", "b")), role("b", ("AWSClusterRoleIdentity", "a")))
    loop = index.chain(IdentityKey("AWSClusterRoleIdentity", "a")).problem
    assert loop == (
        "sourceIdentityRef loops back: AWSClusterRoleIdentity a -> AWSClusterRoleIdentity b -> AWSClusterRoleIdentity a"
    )
    missing = walk(IdentityKey("AWSClusterRoleIdentity", "nope"), {}).problem
    assert missing == "AWSClusterRoleIdentity nope not found"
    misnamed = walk(IdentityKey("AWSClusterControllerIdentity", "mine"), {}).problem
    assert misnamed == "Expected AWSClusterControllerIdentity of name default, got mine"


def cluster(
    namespace: str, name: str, identity: str | None = "managed", region: str = "us-east-1", **extra: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {"identityRef": {"kind": "AWSClusterRoleIdentity", "name": identity}} if identity else {}
    meta: dict[str, Any] = {"name": name, "namespace": namespace, **extra}
    return {"kind": "AWSManagedControlPlane", "metadata": meta, "spec": {**spec, "region": region}}


def test_refusal_names_the_first_identity_down_the_chain_that_refuses() -> None:
    index = index_of(
        {**CONTROLLER, "spec": {"allowedNamespaces": {"list": ["a"]}}},
        role("managed", ("AWSClusterControllerIdentity", "default"), {"list": ["a", "b"]}),
    )
    index.namespace_seen("b", {}, deleted=False)
    assert index.refusal(cluster_from_cr(cluster("a", "c1"))) is None
    refused = index.refusal(cluster_from_cr(cluster("b", "c1")))
    assert refused == "Namespace is not permitted to use AWSClusterControllerIdentity: default"
    assert cluster_from_cr(cluster("a", "c2", identity=None)).identity == DEFAULT_IDENTITY


def test_same_cluster_name_in_another_namespace_and_the_same_account_shares_resources() -> None:
    index = index_of(CONTROLLER, role("managed", ("AWSClusterControllerIdentity", "default"), {}))
    first = cluster_from_cr(cluster("tenant-a", "c1-control-plane", labels={"cluster.x-k8s.io/cluster-name": "c1"}))
    index.put_cluster(first)
    index.capi_cluster_seen("tenant-b", "c1", [("AWSManagedControlPlane", "cp")], deleted=False)
    second = cluster_from_cr(cluster("tenant-b", "cp"))
    assert index.cluster_name(second) == "c1"
    assert index.sharing_resources_with(second) == first
    assert index.sharing_resources_with(cluster_from_cr(cluster("tenant-b", "cp", region="eu-west-1"))) is None
    assert index.sharing_resources_with(cluster_from_cr(cluster("tenant-b", "c2"))) is None
    assert index.sharing_resources_with(cluster_from_cr(cluster("tenant-a", "c1", identity=None))) is None
    other_account = role("elsewhere", ("AWSClusterControllerIdentity", "default"), {}, "arn:aws:iam::333:role/x")
    index.put_identity(identity_from_cr(other_account))
    assert index.sharing_resources_with(cluster_from_cr(cluster("tenant-b", "cp", identity="elsewhere"))) is None
    assert index.clusters_using(IdentityKey("AWSClusterControllerIdentity", "default")) == [first]


def test_protected_labels_come_from_the_selectors() -> None:
    index = index_of(
        role("x", None, {"selector": {"matchLabels": TENANT}}),
        role("y", None, {"selector": {"matchExpressions": [{"key": "team", "operator": "Exists"}]}}),
    )
    assert index.protected_label_keys() == {"stakater.com/tenant", "team"}
