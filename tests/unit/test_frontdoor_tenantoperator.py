"""MTO custom resources become the internal model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kubetenancy.frontdoors.tenantoperator import MTO_TENANT_LABEL, cluster_policy, quota_from_cr, tenant_from_cr


def test_namespaces_prefixes_sandboxes_and_metadata_precedence() -> None:
    spec = {
        "quota": "small",
        "accessControl": {
            "owners": {"users": ["falcon@nordmart.com"], "groups": ["devs"]},
            "viewers": {"users": ["v"]},
        },
        "namespaces": {
            "withTenantPrefix": ["dev", "build"],
            "withoutTenantPrefix": ["analytics"],
            "sandboxes": {"enabled": True, "private": True},
            "metadata": {
                "common": {"labels": {"team": "common", "tier": "x"}},
                "specific": [{"namespaces": ["alpha-dev"], "labels": {"team": "specific"}}],
                "sandbox": {"annotations": {"owner": "{{ TENANT.USERNAME }}"}},
            },
        },
    }
    tenant = tenant_from_cr("alpha", spec, None)
    assert tenant.namespace_names() == (
        "alpha-dev",
        "alpha-build",
        "analytics",
        "alpha-falcon-nordmart-com-sandbox",
        "alpha-v-sandbox",
    )
    dev, build, _, falcon, _ = tenant.namespaces
    assert dev.labels == {"team": "specific", "tier": "x", MTO_TENANT_LABEL: "alpha"}
    assert build.labels["team"] == "common"
    assert falcon.annotations == {"owner": "falcon@nordmart.com"}
    assert falcon.private_to == "falcon@nordmart.com"
    assert tenant.tier_of("someone", ("devs",)) == "owner"
    assert tenant.tier_of("v", ()) == "viewer"
    assert tenant.tier_of("nobody", ()) is None


def test_allow_lists_are_tri_state() -> None:
    absent = tenant_from_cr("t", {"quota": "q"}, None).policy
    assert absent.storage_classes is None
    everything = tenant_from_cr("t", {"quota": "q", "storageClasses": {}}, None).policy
    assert everything.storage_classes == frozenset()
    listed = tenant_from_cr("t", {"quota": "q", "storageClasses": {"allowed": ["fast", ""]}}, None).policy
    assert listed.storage_classes == frozenset({"fast", ""})


def test_quota_model_keeps_hard_limits_as_strings() -> None:
    quota = quota_from_cr("small", {"resourcequota": {"hard": {"pods": 10, "requests.cpu": "5"}}})
    assert quota.hard == {"pods": "10", "requests.cpu": "5"}
    assert quota.limit_range == ()


def test_invalid_host_regex_is_refused() -> None:
    with pytest.raises(ValidationError, match="allowedRegex is not a valid regular expression"):
        tenant_from_cr("t", {"quota": "q", "hostValidationConfig": {"allowedRegex": "(unclosed"}}, None)


def test_cluster_policy_defaults_and_custom_roles() -> None:
    defaults = cluster_policy(None, frozenset({"cluster-admins"}))
    assert defaults.roles == {"owner": ("admin",), "editor": ("edit",), "viewer": ("view",)}
    assert defaults.bypasses("anyone", ("cluster-admins",))
    assert not defaults.bypasses("anyone", ("devs",))
    assert defaults.bypasses("system:kube-controller-manager", ())
    assert not defaults.bypasses("system:serviceaccount:team:robot", ())
    spec = {
        "accessControl": {
            "rbac": {
                "tenantRoles": {
                    "default": {
                        "owner": {"clusterRoles": ["admin"]},
                        "editor": {"clusterRoles": ["edit"]},
                        "viewer": {"clusterRoles": ["view"]},
                    },
                    "custom": [
                        {"labelSelector": {"matchLabels": {"env": "prod"}}, "owner": {"clusterRoles": ["view"]}}
                    ],
                }
            },
            "privileged": {"users": ["ops-.*"]},
        },
        "tenantPolicies": {"network": {"disableIntraTenantNetworking": True}},
    }
    policy = cluster_policy(spec, frozenset())
    assert policy.roles_for("owner", {"env": "prod"}) == ("view",)
    assert policy.roles_for("owner", {"env": "dev"}) == ("admin",)
    assert policy.roles_for("editor", {"env": "prod"}) == ("edit",)
    assert policy.bypasses("ops-alice", ())
    assert policy.disable_intra_tenant_networking


def test_incomplete_default_tenant_roles_are_refused() -> None:
    spec = {"accessControl": {"rbac": {"tenantRoles": {"default": {"owner": {"clusterRoles": ["admin"]}}}}}}
    with pytest.raises(ValidationError, match="missing \\['editor', 'viewer'\\]"):
        cluster_policy(spec, frozenset())
