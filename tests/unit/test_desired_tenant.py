"""The objects a tenant should have, computed without a cluster."""

from __future__ import annotations

from kubetenancy.desired import OwnerRef, content_hash, tenant_objects
from kubetenancy.desired.tenant import POLICY_LABEL, limit_range_items, relabelled_namespaces
from kubetenancy.frontdoors.tenantoperator import quota_from_cr, tenant_from_cr
from kubetenancy.model import TENANT_LABEL, ClusterPolicy, TenantQuota

OWNER = OwnerRef("tenantoperator.stakater.com/v1beta3", "Tenant", "logistics", "uid-1")
QUOTA = quota_from_cr("small", {"resourcequota": {"hard": {"configmaps": "10", "memory": "8Gi"}}})


def objects(spec: dict[str, object], policy: ClusterPolicy | None = None) -> list[dict[str, object]]:
    return tenant_objects(
        tenant_from_cr("logistics", {"quota": "small", **spec}, QUOTA), policy or ClusterPolicy(), OWNER
    )


def by_kind(items: list[dict[str, object]], kind: str) -> list[dict]:  # type: ignore[type-arg]
    return [o for o in items if o["kind"] == kind]


def test_seed_tenant() -> None:
    items = objects(
        {
            "namespaces": {"withTenantPrefix": ["dev", "build"]},
            "accessControl": {"owners": {"users": ["falcon@nordmart.com"]}},
        }
    )
    namespaces = by_kind(items, "Namespace")
    assert [n["metadata"]["name"] for n in namespaces] == ["logistics-dev", "logistics-build"]
    labels = namespaces[0]["metadata"]["labels"]
    assert labels[TENANT_LABEL] == "logistics"
    assert labels["stakater.com/tenant"] == "logistics"
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert POLICY_LABEL not in labels
    assert "ownerReferences" not in namespaces[0]["metadata"], "namespaces survive their tenant"
    bindings = by_kind(items, "RoleBinding")
    assert [(b["metadata"]["namespace"], b["metadata"]["name"], b["roleRef"]["name"]) for b in bindings] == [
        ("logistics-dev", "kubetenancy-owner-admin", "admin"),
        ("logistics-build", "kubetenancy-owner-admin", "admin"),
    ]
    assert bindings[0]["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert [o["kind"] for o in items].count("ResourceQuota") == 2
    creators = [b for b in by_kind(items, "ClusterRoleBinding") if b["metadata"]["name"].endswith("-creators")]
    assert creators[0]["roleRef"]["name"] == "kubetenancy-namespace-creator"
    assert creators[0]["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "falcon@nordmart.com"}
    ]


def test_purge_makes_namespaces_owned() -> None:
    items = objects({"namespaces": {"withTenantPrefix": ["dev"], "onDeletePurgeNamespaces": True}})
    assert by_kind(items, "Namespace")[0]["metadata"]["ownerReferences"][0]["name"] == "logistics"


def test_private_sandbox_binds_only_its_user() -> None:
    items = objects(
        {
            "namespaces": {"sandboxes": {"enabled": True, "private": True}},
            "accessControl": {"owners": {"users": ["a"]}, "editors": {"users": ["b"], "groups": ["g"]}},
        }
    )
    sandbox_b = [b for b in by_kind(items, "RoleBinding") if b["metadata"]["namespace"] == "logistics-b-sandbox"]
    assert [(b["metadata"]["name"], b["subjects"]) for b in sandbox_b] == [
        ("kubetenancy-owner-admin", [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "b"}])
    ]


def test_policies_label_namespaces_and_network_isolation() -> None:
    items = objects({"namespaces": {"withTenantPrefix": ["dev"]}, "imageRegistries": {"allowed": ["ghcr.io"]}})
    assert by_kind(items, "Namespace")[0]["metadata"]["labels"][POLICY_LABEL] == "enforced"
    isolated = objects(
        {"namespaces": {"withTenantPrefix": ["dev"]}}, ClusterPolicy(disable_intra_tenant_networking=True)
    )
    assert by_kind(isolated, "NetworkPolicy")[0]["spec"]["ingress"] == [{"from": [{"podSelector": {}}]}]


def test_zero_default_requests_only_where_needed() -> None:
    quota = TenantQuota(
        "q",
        hard={"memory": "8Gi", "requests.cpu": "4", "limits.memory": "16Gi", "pods": "10"},
        limit_range=({"type": "Container", "min": {"cpu": "100m"}},),
    )
    assert limit_range_items(quota) == [
        {"type": "Container", "min": {"cpu": "100m"}, "defaultRequest": {"memory": "0"}}
    ]
    assert limit_range_items(TenantQuota("q", hard={"pods": "1"})) == []
    assert limit_range_items(TenantQuota("q", hard={"cpu": "1"})) == [
        {"type": "Container", "defaultRequest": {"cpu": "0"}}
    ]


def test_content_hash_is_stable_and_sensitive() -> None:
    spec = {"namespaces": {"withTenantPrefix": ["dev"]}}
    assert content_hash(objects(spec)) == content_hash(objects(spec))
    assert content_hash(objects(spec)) != content_hash(objects({"namespaces": {"withTenantPrefix": ["dev", "x"]}}))


def test_members_read_their_namespaces_tenant_and_classes_by_name() -> None:
    items = objects(
        {
            "namespaces": {"withTenantPrefix": ["dev", "build"], "sandboxes": {"enabled": True, "private": True}},
            "accessControl": {"owners": {"users": ["falcon@nordmart.com"]}, "viewers": {"groups": ["ops"]}},
            "storageClasses": {"allowed": ["fast", ""]},
            "ingressClasses": {"allowed": []},
        }
    )
    roles = {r["metadata"]["name"]: r for r in by_kind(items, "ClusterRole")}
    members = roles["kubetenancy-logistics-members"]
    assert members["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    rules = {(r["apiGroups"][0], r["resources"][0]): r for r in members["rules"]}
    assert all(r["verbs"] == ["get"] for r in members["rules"]), "by name, never list or write"
    shared = ["logistics-build", "logistics-dev"]
    assert rules[("", "namespaces")]["resourceNames"] == shared
    assert rules[("tenancy.kiosk.sh", "spaces")]["resourceNames"] == shared
    assert rules[("tenantoperator.stakater.com", "tenants")]["resourceNames"] == ["logistics"]
    assert rules[("storage.k8s.io", "storageclasses")]["resourceNames"] == ["fast"]
    assert ("networking.k8s.io", "ingressclasses") not in rules, "all allowed: nothing of the cluster is granted"
    owners = roles["kubetenancy-logistics-namespace-owners"]["rules"]
    assert owners == [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch", "update"], "resourceNames": shared}
    ]
    bindings = {b["metadata"]["name"]: b for b in by_kind(items, "ClusterRoleBinding")}
    assert [s["name"] for s in bindings["kubetenancy-logistics-namespace-owners"]["subjects"]] == [
        "falcon@nordmart.com"
    ]
    assert [s["name"] for s in bindings["kubetenancy-logistics-members"]["subjects"]] == ["falcon@nordmart.com", "ops"]
    # The private sandbox is readable by its user only.
    sandbox = "logistics-falcon-nordmart-com-sandbox"
    assert sandbox not in rules[("", "namespaces")]["resourceNames"]
    own = roles[f"kubetenancy-{sandbox}-owner"]
    assert {tuple(r["verbs"]) for r in own["rules"]} == {("get",), ("patch", "update")}
    assert all(r["resourceNames"] == [sandbox] for r in own["rules"])
    assert bindings[f"kubetenancy-{sandbox}-owner"]["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "falcon@nordmart.com"}
    ]


def test_a_kiosk_accounts_users_read_its_account_views() -> None:
    from kubetenancy.desired.tenant_access import read_access
    from kubetenancy.frontdoors.kiosk import account_from_cr
    from kubetenancy.model import TenantNamespace

    account = account_from_cr("node-account", {"subjects": [{"kind": "User", "name": "dev"}]}, None)
    account = account.__class__(**{**account.__dict__, "namespaces": (TenantNamespace("node-space"),)})
    owner = OwnerRef("config.kiosk.sh/v1alpha1", "Account", "node-account", "uid-2")
    role = read_access(account, owner)[0]
    assert {(r["apiGroups"][0], r["resources"][0], r["resourceNames"][0]) for r in role["rules"]} == {
        ("", "namespaces", "node-space"),
        ("tenancy.kiosk.sh", "spaces", "node-space"),
        ("config.kiosk.sh", "accounts", "node-account"),
        ("tenancy.kiosk.sh", "accounts", "node-account"),
    }


def test_namespaces_whose_kept_labels_moved_are_applied_again() -> None:
    items = objects({"namespaces": {"withTenantPrefix": ["dev", "prod"]}})
    dev, prod = (n["metadata"]["labels"] for n in by_kind(items, "Namespace"))
    seen = {
        "logistics-dev": {**dev, "team": "web"},  # an extra label is not drift
        "logistics-prod": {**prod, "pod-security.kubernetes.io/enforce": "privileged"},
    }
    assert [n["metadata"]["name"] for n in relabelled_namespaces(items, seen)] == ["logistics-prod"]
    assert relabelled_namespaces(items, {}) == [], "namespaces not seen yet are the creating pass's"
