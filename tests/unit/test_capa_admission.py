"""The CAPA admission rules as pure functions: identity use, shared cluster names, identities, labels."""

from __future__ import annotations

from typing import Any

from kubetenancy.admission.capa_identities import identity_is_sound
from kubetenancy.admission.capa_identity_use import identity_may_be_used
from kubetenancy.admission.capa_namespace_labels import identity_labels_are_protected
from kubetenancy.admission.decision import Missing, Request
from kubetenancy.admission.registry import registry
from kubetenancy.admission.view import TenancyView
from kubetenancy.cloud.identity_index import CLAIM_SECONDS
from kubetenancy.desired.capa_crds import serve_v1beta1
from kubetenancy.frontdoors.capa import cluster_from_cr, identity_from_cr
from kubetenancy.operator.admission_server import review_response, rules_handler
from kubetenancy.operator.quota_ledger import QuotaLedger

INFRA, CP = "infrastructure.cluster.x-k8s.io", "controlplane.cluster.x-k8s.io"
LOGISTICS = {"stakater.com/tenant": "logistics"}


def role(name: str, allowed: Any, source: str = "default", arn: str = "") -> dict[str, Any]:
    spec = {
        "allowedNamespaces": allowed,
        "roleARN": arn or "arn:aws:iam::111111111111:role/controllers.cluster-api-provider-aws.sigs.k8s.io",
        "sourceIdentityRef": {"kind": "AWSClusterControllerIdentity", "name": source},
    }
    return {
        "apiVersion": f"{INFRA}/v1beta2",
        "kind": "AWSClusterRoleIdentity",
        "metadata": {"name": name},
        "spec": spec,
    }


CONTROLLER = {
    "kind": "AWSClusterControllerIdentity",
    "metadata": {"name": "default"},
    "spec": {"allowedNamespaces": {}},
}


def control_plane(namespace: str, name: str, identity: str = "managed-account", **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{CP}/v1beta2",
        "kind": "AWSManagedControlPlane",
        "metadata": {"name": name, "namespace": namespace, **meta},
        "spec": {"region": "us-east-1", "identityRef": {"kind": "AWSClusterRoleIdentity", "name": identity}},
    }


def view_with(*objects: dict[str, Any], namespaces: dict[str, dict[str, str]] | None = None) -> TenancyView:
    view = TenancyView()
    for obj in objects:
        if obj["kind"].endswith("Identity"):
            view.aws.put_identity(identity_from_cr(obj))
        else:
            view.aws.put_cluster(cluster_from_cr(obj))
    for name, labels in (namespaces or {}).items():
        view.aws.namespace_seen(name, labels, deleted=False)
    return view


def request(obj: dict[str, Any], operation: str = "CREATE", old: dict[str, Any] | None = None) -> Request:
    meta = (obj or old or {})["metadata"]
    kind = (obj or old or {})["kind"]
    return Request(
        operation=operation,
        kind=kind,
        group=(obj or old or {}).get("apiVersion", f"{INFRA}/v1beta2").split("/")[0],
        name=meta["name"],
        namespace=meta.get("namespace"),
        user="alice",
        groups=(),
        obj=obj,
        old=old or {},
    )


TENANTS = {"logistics-dev": LOGISTICS, "retail-dev": {"stakater.com/tenant": "retail"}}


def test_a_namespace_the_identity_does_not_allow_is_refused_in_capas_words() -> None:
    view = view_with(CONTROLLER, role("managed-account", {"selector": {"matchLabels": LOGISTICS}}), namespaces=TENANTS)
    assert identity_may_be_used(request(control_plane("logistics-dev", "c1")), view).allowed
    decision = identity_may_be_used(request(control_plane("retail-dev", "c1")), view)
    assert not decision.allowed
    assert decision.message.startswith(
        'AWSManagedControlPlane.controlplane.cluster.x-k8s.io "c1" is forbidden: spec.identityRef: Namespace is not '
        "permitted to use AWSClusterRoleIdentity: managed-account: its spec.allowedNamespaces lets in namespaces "
        'labelled stakater.com/tenant=logistics, not namespace "retail-dev". Ask a platform admin'
    )


async def test_a_refusal_is_judged_again_after_reading_the_identities_and_namespace_behind_it() -> None:
    """The view may lag behind an identity that was changed a moment ago to allow the namespace."""
    view = view_with(CONTROLLER, role("managed-account", {"selector": {"matchLabels": LOGISTICS}}), namespaces=TENANTS)
    webhook = next(r for r in registry("kubetenancy", QuotaLedger(view)) if identity_may_be_used in r.rules)
    refused = identity_may_be_used(request(control_plane("retail-dev", "c2")), view)
    assert {(m.kind, m.name) for m in refused.missing} == {
        ("AWSClusterRoleIdentity", "managed-account"), ("AWSClusterControllerIdentity", "default"),
        ("Namespace", "retail-dev"), ("Cluster", None),  # its Cluster API cluster, which names it
    }  # fmt: skip
    read: list[str] = []

    async def unchanged(missing: Missing) -> bool:
        read.append(missing.kind)
        return True

    still = await rules_handler(webhook, view, unchanged)(request(control_plane("retail-dev", "c2")))
    assert not still.allowed
    assert sorted(read) == ["AWSClusterControllerIdentity", "AWSClusterRoleIdentity", "Cluster", "Namespace"]

    async def changed_a_moment_ago(missing: Missing) -> bool:
        if missing.kind == "AWSClusterRoleIdentity":
            view.aws.put_identity(identity_from_cr(role("managed-account", {"list": ["retail-dev"]})))
        return True

    admitted = await rules_handler(webhook, view, changed_a_moment_ago)(request(control_plane("retail-dev", "c2")))
    assert admitted.allowed


def test_the_source_identity_down_the_chain_is_checked_too() -> None:
    restricted = {**CONTROLLER, "spec": {"allowedNamespaces": {"list": ["logistics-dev"]}}}
    view = view_with(restricted, role("managed-account", {}), namespaces=TENANTS)
    decision = identity_may_be_used(request(control_plane("retail-dev", "c1")), view)
    assert "Namespace is not permitted to use AWSClusterControllerIdentity: default (reached through " in (
        decision.message
    )


def test_a_missing_identity_is_a_warning_and_a_loop_is_refused() -> None:
    missing = identity_may_be_used(request(control_plane("retail-dev", "c1")), view_with())
    assert missing.allowed
    assert missing.warnings == (
        "spec.identityRef: AWSClusterRoleIdentity managed-account not found (yet): CAPA will not reconcile it until "
        "it exists",
    )
    a = role("a", {}, source="x")
    a["spec"]["sourceIdentityRef"] = {"kind": "AWSClusterRoleIdentity", "name": "a"}
    assert not identity_may_be_used(request(control_plane("ns", "c1", identity="a")), view_with(a)).allowed


def test_updates_that_keep_the_identity_pass_even_when_it_no_longer_allows_the_namespace() -> None:
    view = view_with(CONTROLLER, role("managed-account", {"list": []}))
    live = control_plane("retail-dev", "c1", finalizers=["x"])
    assert identity_may_be_used(request(live, "UPDATE", old=control_plane("retail-dev", "c1")), view).allowed


def test_the_same_cluster_name_in_another_namespace_and_account_is_refused_naming_the_other() -> None:
    first = control_plane("logistics-dev", "managed-control-plane", labels={"cluster.x-k8s.io/cluster-name": "c1"})
    view = view_with(CONTROLLER, role("managed-account", {}), first)
    second = control_plane("retail-dev", "c1")
    decision = identity_may_be_used(request(second), view)
    assert decision.message == (
        'AWSManagedControlPlane.controlplane.cluster.x-k8s.io "c1" is forbidden: Cluster API cluster name "c1" is '
        "already used by AWSManagedControlPlane logistics-dev/managed-control-plane, which may reach the same AWS "
        "account (111111111111) and region: CAPA finds VPCs, subnets and load balancers by a tag with the cluster "
        "name but not its namespace, so this cluster would take over its resources. Choose another cluster name"
    )
    assert identity_may_be_used(request(control_plane("retail-dev", "c2")), view).allowed


async def test_two_creates_of_one_cluster_name_in_an_instant_admit_only_the_first() -> None:
    view = view_with(CONTROLLER, role("managed-account", {}))
    now = [100.0]
    view.aws.clock = lambda: now[0]
    webhook = next(r for r in registry("kubetenancy", QuotaLedger(view)) if identity_may_be_used in r.rules)
    judge = rules_handler(webhook, view)
    first = control_plane("logistics-dev", "c1")
    assert (await judge(request(first))).allowed
    # Neither object has been seen by the watch yet.
    refused = await judge(request(control_plane("retail-dev", "c1")))
    assert not refused.allowed
    assert "already used by AWSManagedControlPlane logistics-dev/c1" in refused.message
    assert (await judge(request(control_plane("logistics-dev", "c1", identity="managed-account")))).allowed, (
        "the same namespace is CAPA's own business"
    )
    # A create refused after admission never shows up: its claim lapses.
    now[0] += CLAIM_SECONDS + 1
    assert (await judge(request(control_plane("retail-dev", "c1")))).allowed


def test_a_claim_holds_even_when_a_stale_reload_drops_the_object() -> None:
    view = view_with(CONTROLLER, role("managed-account", {}))
    cluster = cluster_from_cr(control_plane("logistics-dev", "c1"))
    view.aws.claim(cluster)
    view.aws.put_cluster(cluster)
    view.aws.clusters = {}  # the reporter's reload from a list taken before the create
    assert not identity_may_be_used(request(control_plane("retail-dev", "c1")), view).allowed


def test_a_capi_cluster_naming_a_capa_object_judges_it_under_its_name() -> None:
    first = control_plane("logistics-dev", "c1")
    second = control_plane("retail-dev", "c1-control-plane")
    view = view_with(CONTROLLER, role("managed-account", {}), first, second)
    capi = {
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "Cluster",
        "metadata": {"name": "c1", "namespace": "retail-dev"},
        "spec": {"controlPlaneRef": {"apiGroup": CP, "kind": "AWSManagedControlPlane", "name": "c1-control-plane"}},
    }
    decision = identity_may_be_used(request(capi), view)
    assert 'Cluster.cluster.x-k8s.io "c1" is forbidden: Cluster API cluster name "c1" is already used by' in (
        decision.message
    )


def test_identity_warnings_and_loss_of_rights() -> None:
    view = view_with(CONTROLLER, role("managed-account", {}), control_plane("retail-dev", "c1"), namespaces=TENANTS)
    everyone = identity_is_sound(request(role("managed-account", {})), view)
    assert everyone.allowed
    assert everyone.warnings[0].startswith(
        "spec.allowedNamespaces: {} (or selector: {}, which CAPA's book says matches none) lets every namespace use"
    )
    narrowed = identity_is_sound(request(role("managed-account", {"selector": {"matchLabels": {}}}), "UPDATE"), view)
    assert narrowed.allowed
    assert "matchLabels: {} matches no namespace" in narrowed.warnings[0]
    assert narrowed.warnings[1] == (
        "AWSManagedControlPlane retail-dev/c1 may no longer use AWSClusterRoleIdentity managed-account: CAPA stops "
        "reconciling it"
    )


def test_a_source_loop_is_invalid() -> None:
    b = role("b", {})
    b["spec"]["sourceIdentityRef"] = {"kind": "AWSClusterRoleIdentity", "name": "a"}
    a = role("a", {})
    a["spec"]["sourceIdentityRef"] = {"kind": "AWSClusterRoleIdentity", "name": "b"}
    decision = identity_is_sound(request(a), view_with(b))
    assert decision.code == 422
    assert "spec.sourceIdentityRef: sourceIdentityRef loops back: AWSClusterRoleIdentity a" in decision.message


def test_deleting_an_identity_in_use_is_refused_naming_the_clusters() -> None:
    view = view_with(CONTROLLER, role("managed-account", {}), control_plane("retail-dev", "c1"))
    decision = identity_is_sound(request({}, "DELETE", old=CONTROLLER), view)
    assert decision.message == (
        'AWSClusterControllerIdentity.infrastructure.cluster.x-k8s.io "default" is forbidden: it is used by '
        "AWSManagedControlPlane retail-dev/c1 (and is the source of AWSClusterRoleIdentity managed-account): CAPA "
        "could neither reconcile nor delete them without it. Point their spec.identityRef at another identity, or "
        "delete them, before deleting it"
    )
    assert identity_is_sound(request({}, "DELETE", old=role("unused", {})), view).allowed


def namespace(labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mine", "labels": labels}}


def test_labels_an_identity_selects_on_are_protected_tenant_labels_keep_their_own_rule() -> None:
    selects = role("x", {"selector": {"matchLabels": {"team": "a", **LOGISTICS}}})
    view = view_with(selects)
    refused = identity_labels_are_protected(request(namespace({"team": "a"})), view)
    assert refused.message == (
        'namespaces "mine" is forbidden: User "alice" may not set or change the label(s) team: '
        "AWSClusterRoleIdentity x select namespaces by them, so they decide which namespaces may use an AWS "
        "account; only cluster administrators may change them"
    )
    assert identity_labels_are_protected(request(namespace(LOGISTICS)), view).allowed
    unchanged = request(namespace({"team": "a", "x": "1"}), "UPDATE", old=namespace({"team": "a"}))
    assert identity_labels_are_protected(unchanged, view).allowed
    removed = request(namespace({}), "UPDATE", old=namespace({"team": "a"}))
    assert not identity_labels_are_protected(removed, view).allowed


async def test_warnings_reach_the_admission_response() -> None:
    webhook = next(
        r
        for r in registry("kubetenancy", QuotaLedger(TenancyView()))
        if r.spec.name == "capa-identities.kubetenancy.dev"
    )
    decision = await rules_handler(webhook, TenancyView())(request(role("open", {})))
    review = {"request": {"uid": "u1"}}
    response = review_response(review, decision)["response"]
    assert response["allowed"] is True
    assert response["warnings"][0].startswith(
        "spec.allowedNamespaces: {} (or selector: {}, which CAPA's book says matches none) lets every namespace use"
    )


def test_v1beta1_identities_are_served_again_and_nothing_else_changes() -> None:
    v1beta1 = {"name": "v1beta1", "served": False, "storage": False, "schema": {"x": 1}}
    v1beta2 = {"name": "v1beta2", "served": True, "storage": True, "schema": {"y": 2}}
    crd = {
        "metadata": {"name": "awsclusterroleidentities.infrastructure.cluster.x-k8s.io", "resourceVersion": "7"},
        "spec": {"versions": [v1beta1, v1beta2]},
    }
    assert serve_v1beta1(crd) == {
        "metadata": {"resourceVersion": "7"},
        "spec": {"versions": [{**v1beta1, "served": True}, v1beta2]},
    }
    assert serve_v1beta1({**crd, "spec": {"versions": [{**v1beta1, "served": True}, v1beta2]}}) is None
    assert serve_v1beta1({**crd, "metadata": {"name": "awsclusters.infrastructure.cluster.x-k8s.io"}}) is None
