"""Kiosk custom resources become the internal model; AccountQuota status is computed as Kiosk shows it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from kubetenancy.desired import tenant_objects
from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.frontdoors.kiosk import account_from_cr, account_quota_from_cr, account_quota_status, combined_quota
from kubetenancy.model import ClusterPolicy, TenantNamespace, TenantQuota


def test_an_account_is_a_tenant_whose_subjects_get_the_space_role() -> None:
    spec = {
        "space": {
            "clusterRole": "kiosk-space-admin",
            "limit": 2,
            "spaceTemplate": {"metadata": {"labels": {"team": "node"}, "annotations": {"a": "b"}}},
            "templateInstances": [
                {"spec": {"template": "space-template"}},
                {"metadata": {"name": "netpol", "labels": {"x": "y"}},
                 "spec": {"template": "policy", "sync": True, "parameters": [{"name": "P", "value": "1"}]}},
            ],
        },
        "subjects": [
            {"kind": "User", "name": "dev", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"},
        ],
    }  # fmt: skip
    tenant = account_from_cr("node-account", spec, None)
    assert tenant.tier_of("dev", ()) == "owner"
    assert tenant.tier_of("someone", ("devs",)) == "owner"
    assert tenant.tier_of("system:serviceaccount:tools:ci", ()) == "owner"
    assert tenant.roles == {"owner": ("kiosk-space-admin",)}
    assert tenant.namespace_limit == 2
    assert tenant.common_labels == {"team": "node"}
    assert tenant.claim_label == "kiosk.sh/account"
    assert tenant.common_annotations == {"a": "b"}
    assert [(t.name, t.template, t.sync, t.parameters) for t in tenant.templates] == [
        ("space-template", "space-template", False, ()),
        ("netpol", "policy", True, (("P", "1"),)),
    ]
    assert not tenant.owners_create_namespaces


def test_a_spaces_objects_hold_back_access_while_templates_deploy() -> None:
    spec = {
        "subjects": [{"kind": "User", "name": "dev"}],
        "space": {"templateInstances": [{"spec": {"template": "t"}}]},
    }
    tenant = account_from_cr("acc", spec, None)
    ready = tenant_objects(replace(tenant, namespaces=(TenantNamespace("s1"),)), ClusterPolicy(), None)
    # Read access by name comes with the role binding (see test_desired_tenant); leave it aside here.
    ready = [o for o in ready if not o["kind"].startswith("Cluster")]
    kinds = [(o["kind"], o["metadata"]["name"]) for o in ready]
    assert kinds == [
        ("Namespace", "s1"),
        ("TemplateInstance", "t"),
        ("RoleBinding", "kubetenancy-owner-admin"),
    ]
    # A space is claimed by its kiosk.sh/account label, set when it was made; the operator never re-asserts
    # it, so a pass that began before an admin moved the space to another account cannot move it back.
    assert "kiosk.sh/account" not in ready[0]["metadata"]["labels"]
    assert ready[0]["metadata"]["labels"]["kubetenancy.dev/tenant"] == "acc"
    held = replace(tenant, namespaces=(TenantNamespace("s1", held=True),))
    assert [o["kind"] for o in tenant_objects(held, ClusterPolicy(), None)] == ["Namespace", "TemplateInstance"]


def test_default_space_role_is_admin_and_an_empty_one_binds_nothing() -> None:
    assert account_from_cr("a", {}, None).roles == {"owner": ("admin",)}
    tenant = account_from_cr("a", {"subjects": [{"kind": "User", "name": "u"}], "space": {"clusterRole": ""}}, None)
    with_space = replace(tenant, namespaces=(TenantNamespace("s"),))
    # No role in the space; its users still read it by name, as they see it listed among their Spaces.
    assert [o["kind"] for o in tenant_objects(with_space, ClusterPolicy(), None)] == [
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
    ]


def test_several_account_quotas_the_lowest_limit_wins() -> None:
    _, big = account_quota_from_cr("big", {"account": "a", "quota": {"hard": {"pods": "10", "limits.cpu": "1"}}})
    account, small = account_quota_from_cr("small", {"account": "a", "quota": {"hard": {"pods": 2, "limits.cpu": "4"}}})
    assert account == "a"
    combined = combined_quota([big, small])
    assert combined == TenantQuota(name="big, small", hard={"pods": "2", "limits.cpu": "1"})
    assert combined_quota([]) is None


def test_account_quota_status_totals_and_per_space_usage() -> None:
    status = account_quota_status(
        {"pods": "2", "limits.cpu": "4"},
        {"s2": {"pods": "1", "limits.cpu": "1500m", "secrets": "3"}, "s1": {"pods": "1", "limits.cpu": "500m"}},
    )
    assert status["total"] == {"hard": {"pods": "2", "limits.cpu": "4"}, "used": {"pods": "2", "limits.cpu": "2"}}
    assert [n["namespace"] for n in status["namespaces"]] == ["s1", "s2"]
    assert status["namespaces"][1]["status"]["used"] == {"pods": "1", "limits.cpu": "1500m"}


@pytest.mark.parametrize(
    "spec",
    [
        {"subjects": [{"kind": "Robot", "name": "r"}]},
        {"space": {"limit": -1}},
        {"space": {"templateInstances": [{"spec": {}}]}},
        {"surprise": True},
    ],
)
def test_invalid_accounts_are_refused(spec: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        account_from_cr("a", spec, None)


def test_a_namespace_has_one_owner_and_the_apis_labels_decide() -> None:
    assert namespace_owner({"kubetenancy.dev/tenant": "old", "kiosk.sh/account": "new"}) == "new"
    assert namespace_owner({"kubetenancy.dev/tenant": "t", "stakater.com/tenant": "mto"}) == "mto"
    assert namespace_owner({"kubetenancy.dev/tenant": "t"}) == "t"
    assert namespace_owner({"team": "x"}) is None
