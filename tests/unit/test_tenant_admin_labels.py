"""The mutating rule that makes a ClusterProfile written by a ServiceAccount that tenant admin's, and the
JSON Patch answers of the admission server."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kubetenancy.admission import Decision, Request
from kubetenancy.admission.registry import registry
from kubetenancy.admission.tenant_admin_labels import stamp_tenant_admin
from kubetenancy.admission.view import TenancyView
from kubetenancy.desired.webhooks import configurations
from kubetenancy.operator.admission_server import review_response, rules_handler
from kubetenancy.operator.quota_ledger import QuotaLedger

NAME = "projectsveltos.io/serviceaccount-name"
NAMESPACE = "projectsveltos.io/serviceaccount-namespace"
FOO = "system:serviceaccount:default:foo"


def request(user: str, labels: dict[str, str] | None, old: dict[str, str] | None = None, **kw: Any) -> Request:
    def profile(with_labels: dict[str, str] | None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": "p"}
        if with_labels is not None:
            meta["labels"] = with_labels
        return {"metadata": meta}

    return Request(
        operation="UPDATE" if old is not None else "CREATE",
        kind="ClusterProfile",
        group="config.projectsveltos.io",
        name="p",
        namespace=None,
        user=user,
        groups=kw.get("groups", ("system:serviceaccounts",)),
        obj=profile(labels),
        old=profile(old) if old is not None else {},
    )


def test_a_service_accounts_profile_is_stamped_with_its_identity() -> None:
    decision = stamp_tenant_admin(request(FOO, None), TenancyView())
    assert decision.allowed
    assert decision.patch == ({"op": "add", "path": "/metadata/labels", "value": {NAME: "foo", NAMESPACE: "default"}},)
    with_labels = stamp_tenant_admin(request(FOO, {"team": "a"}), TenancyView())
    assert [op["path"] for op in with_labels.patch] == [
        "/metadata/labels/projectsveltos.io~1serviceaccount-name",
        "/metadata/labels/projectsveltos.io~1serviceaccount-namespace",
    ]
    assert stamp_tenant_admin(request(FOO, {NAME: "foo", NAMESPACE: "default"}), TenancyView()) == Decision.allow()
    # Taking the labels off on an update puts them back.
    mine = {NAME: "foo", NAMESPACE: "default"}
    assert stamp_tenant_admin(request(FOO, {}, old=mine), TenancyView()).patch


@pytest.mark.parametrize(
    ("user", "labels", "old", "message"),
    [
        (
            FOO,
            {NAME: "eng", NAMESPACE: "default"},
            None,
            "ServiceAccount default/foo cannot deploy as tenant admin default/eng",
        ),
        (FOO, {NAME: "foo"}, {}, "it is the platform admin's; ServiceAccount default/foo may change only its own"),
        (FOO, None, {NAME: "eng", NAMESPACE: "default"}, "it is tenant admin default/eng's"),
        ("alice", {NAME: "foo", NAMESPACE: "default"}, None, 'User "alice" may not set or change the labels'),
        ("alice", {}, {NAME: "foo", NAMESPACE: "default"}, 'User "alice" may not set or change the labels'),
    ],
)
def test_nobody_but_admins_claims_or_drops_another_identity(
    user: str, labels: dict[str, str] | None, old: dict[str, str] | None, message: str
) -> None:
    decision = stamp_tenant_admin(request(user, labels, old), TenancyView())
    assert not decision.allowed
    assert decision.message.startswith('clusterprofiles.config.projectsveltos.io "p" is forbidden: ')
    assert message in decision.message


def test_other_users_may_leave_the_labels_as_they_are() -> None:
    assert stamp_tenant_admin(request("alice", None), TenancyView()).allowed
    same = {NAME: "foo", NAMESPACE: "default"}
    assert stamp_tenant_admin(request("alice", same, old=same), TenancyView()).allowed


async def test_cluster_admins_are_not_stamped_and_patches_are_sent_as_json_patch() -> None:
    webhooks = registry("multi-tenant-operator", QuotaLedger(TenancyView()))
    (webhook,) = [r for r in webhooks if r.spec.name == "tenant-admin-labels.kubetenancy.dev"]
    handle = rules_handler(webhook, TenancyView())
    admin = request("admin", {NAME: "foo", NAMESPACE: "default"}, groups=("system:masters",))
    assert await handle(admin) == Decision.allow()
    decision = await handle(request(FOO, None))
    review = {"request": {"uid": "u"}}
    response = review_response(review, decision)["response"]
    assert response["patchType"] == "JSONPatch"
    assert json.loads(base64.b64decode(response["patch"])) == list(decision.patch)
    assert "patch" not in review_response(review, Decision.allow())["response"]


def test_the_mutating_webhook_has_its_own_configuration_and_fails_closed() -> None:
    specs = [r.spec for r in registry("multi-tenant-operator", QuotaLedger(TenancyView()))]
    validating, mutating = configurations(specs, lambda path: {"url": f"https://x{path}"})
    assert validating["kind"] == "ValidatingWebhookConfiguration"
    assert "tenant-admin-labels.kubetenancy.dev" not in {w["name"] for w in validating["webhooks"]}
    assert mutating["kind"] == "MutatingWebhookConfiguration"
    webhook, pulls = mutating["webhooks"]
    assert webhook["name"] == "tenant-admin-labels.kubetenancy.dev"
    assert pulls["name"] == "always-pull-images.kubetenancy.dev"
    assert pulls["namespaceSelector"] == {"matchLabels": {"kubetenancy.dev/always-pull-images": "true"}}
    assert webhook["failurePolicy"] == "Fail"
    assert webhook["reinvocationPolicy"] == "Never"
    assert webhook["rules"][0]["resources"] == ["clusterprofiles"]
    assert webhook["clientConfig"]["url"] == "https://x/mutate/clusterprofiles"
