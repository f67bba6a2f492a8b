"""The pure parts of multi-cluster tenancy: selection, clusters' kubeconfigs, grants, profiles, admin-rbac."""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
from typing import Any

import pytest
import yaml
from rich.console import Console

from kubetenancy.api.sveltos import Selector
from kubetenancy.cli.show import render
from kubetenancy.cluster_model import Admin, ClusterProfile, ManagedCluster, RoleRequest
from kubetenancy.frontdoors.sveltos import (
    NotATenantProfile,
    cluster_profile_from_cr,
    role_request_from_cr,
    selector,
    tenant_admin,
)
from kubetenancy.frontdoors.sveltos import capi_cluster_from_cr as from_capi_cluster
from kubetenancy.frontdoors.sveltos import sveltos_cluster_from_cr as from_sveltos_cluster
from kubetenancy.localcluster.gobuild import HELM, go_binary_name
from kubetenancy.multicluster.adminrbac import rows
from kubetenancy.multicluster.clusters import KubeconfigError, kubeconfig_from_secret, probe_status
from kubetenancy.multicluster.grants import (
    SourcedRole,
    grant_hash,
    grant_objects,
    kubeconfig_secret,
    label_value,
    roles_in,
    stored_expiration,
    stored_kubeconfig,
)
from kubetenancy.multicluster.kubeconfigs import token_due, token_kubeconfig
from kubetenancy.multicluster.profiles import chart_reference, parse_resource_key, profile_hash, resource_key
from kubetenancy.multicluster.references import UnusableReference, data_of, documents

RBAC = "rbac.authorization.k8s.io/v1"
PRODUCTION = ManagedCluster(
    "SveltosCluster", "gke", "production", {"org": "foo.io"}, secret_name="production-sveltos-kubeconfig"
)


def encode(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def kubeconfig(server: str = "https://10.0.0.1:6443") -> dict[str, Any]:
    return {
        "clusters": [{"name": "c", "cluster": {"server": server, "certificate-authority-data": "Q0E="}}],
        "users": [{"name": "admin", "user": {"token": "t"}}],
        "contexts": [{"name": "admin@c", "context": {"cluster": "c", "user": "admin"}}],
        "current-context": "admin@c",
    }


# -- selection -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "labels", "selected"),
    [
        ({}, {}, True),
        ({"matchLabels": {"org": "foo.io"}}, {"org": "foo.io", "env": "x"}, True),
        ({"matchLabels": {"org": "foo.io"}}, {"org": "bar.io"}, False),
        ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["a", "b"]}]}, {"env": "b"}, True),
        ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["a"]}]}, {}, True),
        ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, {"env": ""}, True),
        ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, {"env": "a"}, False),
        (
            {"matchLabels": {"org": "foo.io"}, "matchExpressions": [{"key": "env", "operator": "Exists"}]},
            {"org": "foo.io"},
            False,
        ),
    ],
)
def test_label_selectors_select_as_kubernetes_does(
    given: dict[str, Any], labels: dict[str, str], selected: bool
) -> None:
    assert selector(Selector.model_validate(given)).matches(labels) is selected


# -- clusters --------------------------------------------------------------------------------------------


def test_clusters_of_both_apis_and_their_kubeconfig_secrets() -> None:
    sveltos = from_sveltos_cluster({"metadata": {"name": "production", "namespace": "gke", "labels": {"a": "b"}}})
    assert (sveltos.secret_name, sveltos.secret_key, sveltos.display) == (
        "production-sveltos-kubeconfig",
        None,
        "SveltosCluster:gke/production",
    )
    named = from_sveltos_cluster(
        {"metadata": {"name": "p", "namespace": "gke"}, "spec": {"kubeconfigName": "k", "kubeconfigKeyName": "x"}}
    )
    assert (named.secret_name, named.secret_key) == ("k", "x")
    capi = from_capi_cluster({"metadata": {"name": "w", "namespace": "default"}, "spec": {"paused": True}})
    assert (capi.secret_name, capi.secret_key, capi.paused, capi.display) == (
        "w-kubeconfig",
        "value",
        True,
        "Cluster:default/w",
    )
    assert capi.reference() == {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "namespace": "default",
        "name": "w",
    }


def test_kubeconfig_secrets_are_read_or_refused_with_a_fix() -> None:
    config = kubeconfig()
    one_key = {"data": {"anything": encode(yaml.safe_dump(config))}}
    assert kubeconfig_from_secret(PRODUCTION, one_key) == config
    two_keys = {"data": {"kubeconfig": encode(yaml.safe_dump(config)), "other": encode("x")}}
    assert kubeconfig_from_secret(PRODUCTION, two_keys) == config
    with pytest.raises(KubeconfigError, match='Secret "production-sveltos-kubeconfig" in namespace "gke" not found'):
        kubeconfig_from_secret(PRODUCTION, None)
    with pytest.raises(KubeconfigError, match=r"set spec\.kubeconfigKeyName"):
        kubeconfig_from_secret(PRODUCTION, {"data": {"a": encode("x"), "b": encode("y")}})
    with pytest.raises(KubeconfigError, match="not a kubeconfig with a current context"):
        kubeconfig_from_secret(PRODUCTION, {"data": {"kubeconfig": encode("just: text")}})


def test_connection_checks_go_down_after_the_threshold_in_a_row() -> None:
    cluster = ManagedCluster("SveltosCluster", "gke", "p", failure_threshold=2)
    healthy = probe_status({}, cluster, "v1.36.3", None)
    assert healthy == {"version": "v1.36.3", "ready": True, "connectionStatus": "Healthy", "connectionFailures": 0}
    once = probe_status(healthy, cluster, None, "cannot reach")
    assert once == {**healthy, "connectionFailures": 1, "failureMessage": "cannot reach"}
    twice = probe_status(once, cluster, None, "cannot reach")
    assert (twice["connectionStatus"], twice["ready"], twice["connectionFailures"]) == ("Down", False, 2)
    assert probe_status(twice, cluster, "v1.36.3", None) == healthy


# -- kubeconfigs and tokens ---------------------------------------------------------------------------


def test_a_tenant_kubeconfig_reaches_the_same_server_with_a_token() -> None:
    config = token_kubeconfig(kubeconfig(), "production", "default--foo", "secret-token")
    assert config["clusters"] == [{"name": "production", "cluster": kubeconfig()["clusters"][0]["cluster"]}]
    assert config["users"] == [{"name": "default--foo", "user": {"token": "secret-token"}}]
    assert config["current-context"] == "default--foo@production"


def test_tokens_are_renewed_once_a_fifth_of_their_life_is_left() -> None:
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)

    def at(seconds: int) -> str:
        return (now + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert not token_due(at(600), 600, now)
    assert not token_due(at(121), 600, now)
    assert token_due(at(119), 600, now)
    assert token_due(at(-5), 600, now)
    assert token_due(None, 600, now)
    assert token_due("not a time", 600, now)


# -- grants -----------------------------------------------------------------------------------------------


def seed_roles() -> list[SourcedRole]:
    rules = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
    roles = [
        {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "edit-role", "namespace": ns}, "rules": rules}
        for ns in ("foo-eng", "foo-hr")
    ]
    return [SourcedRole(role, "ConfigMap", "default", "foo-shared-access") for role in roles]


def spec(**extra: Any) -> RoleRequest:
    fields = {"serviceAccountName": "eng", "serviceAccountNamespace": "default", **extra}
    return role_request_from_cr({"metadata": {"name": "foo-access"}, "spec": fields})


def test_a_role_request_deploys_the_account_roles_namespaces_and_bindings() -> None:
    objects = grant_objects(spec(), seed_roles())
    assert [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects] == [
        ("Namespace", None, "foo-eng"),
        ("Namespace", None, "foo-hr"),
        ("Namespace", None, "projectsveltos"),
        ("ServiceAccount", "projectsveltos", "default--eng"),
        ("Role", "foo-eng", "edit-role"),
        ("RoleBinding", "foo-eng", "edit-role"),
        ("Role", "foo-hr", "edit-role"),
        ("RoleBinding", "foo-hr", "edit-role"),
    ]
    binding = objects[5]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "default--eng", "namespace": "projectsveltos"}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "edit-role"}
    role_labels = objects[4]["metadata"]["labels"]
    assert role_labels["projectsveltos.io/role-request"] == "ok"
    assert role_labels["kubetenancy.dev/role-request"] == "foo-access"
    assert role_labels["projectsveltos.io/role-service-account-name"] == "eng"
    assert role_labels["projectsveltos.io/reference-name"] == "foo-shared-access"
    assert objects[4]["rules"] == seed_roles()[0].role["rules"]


def test_only_roles_with_their_namespaces_can_be_granted() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    with pytest.raises(UnusableReference, match="holds Pod p: a RoleRequest grants only Roles and ClusterRoles"):
        roles_in([pod], "ConfigMap x")
    with pytest.raises(UnusableReference, match=r"holds Role r without metadata\.namespace"):
        roles_in([{"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "r"}}], "ConfigMap x")


def test_the_hash_changes_with_what_is_granted_only() -> None:
    objects = grant_objects(spec(), seed_roles())
    same = grant_hash(PRODUCTION, spec(), objects)
    assert grant_hash(PRODUCTION, spec(), grant_objects(spec(), seed_roles())) == same
    assert grant_hash(PRODUCTION, spec(), objects[:-1]) != same
    assert grant_hash(PRODUCTION, spec(expirationSeconds=3600), objects) != same
    assert grant_hash(ManagedCluster("Cluster", "gke", "production"), spec(), objects) != same


def test_the_kubeconfig_secret_is_named_and_labelled_as_sveltos_does() -> None:
    admin = Admin("default", "foo")
    secret = kubeconfig_secret(PRODUCTION, admin, kubeconfig(), "2025-01-01T00:00:00Z")
    digest = hashlib.sha256(b"productiondefaultfoo").hexdigest()
    assert secret["metadata"]["name"] == f"sveltos-{digest}"
    assert secret["metadata"]["namespace"] == "gke"
    assert {
        "projectsveltos.io/role-cluster": "production",
        "projectsveltos.io/role-service-account-name": "foo",
        "projectsveltos.io/role-service-account-namespace": "default",
        "projectsveltos.io/role-request": "ok",
    }.items() <= secret["metadata"]["labels"].items()
    assert base64.b64decode(secret["data"]["expirationTime"]).decode() == '"2025-01-01T00:00:00Z"'
    assert stored_expiration(secret) == "2025-01-01T00:00:00Z"
    assert stored_kubeconfig(secret) == kubeconfig()
    assert stored_expiration(None) is None


def test_long_names_make_valid_label_values() -> None:
    long = "x" * 80
    assert len(label_value(long)) == 63
    assert label_value(long) != label_value("x" * 81)
    assert label_value("short") == "short"


# -- references and profiles ---------------------------------------------------------------------------


def test_referenced_content_is_read_from_config_maps_and_typed_secrets() -> None:
    assert data_of("ConfigMap", "ns", "c", {"data": {"b": "2", "a": "1"}}) == {"a": "1", "b": "2"}
    secret = {"type": "addons.projectsveltos.io/cluster-profile", "data": {"a": encode("text")}}
    assert data_of("Secret", "ns", "s", secret) == {"a": "text"}
    with pytest.raises(UnusableReference, match=r'has type "Opaque": give it type addons\.projectsveltos\.io'):
        data_of("Secret", "ns", "s", {"data": {}})
    with pytest.raises(UnusableReference, match='ConfigMap "c" in namespace "ns" not found'):
        data_of("ConfigMap", "ns", "c", None)
    docs = documents(
        {"a": "kind: A\napiVersion: v1\nmetadata: {name: a}\n---\n---\nkind: B\napiVersion: v1\nmetadata: {name: b}"},
        "x",
    )
    assert [d["kind"] for d in docs] == ["A", "B"]
    with pytest.raises(UnusableReference, match="x key a holds a document without apiVersion and kind"):
        documents({"a": "just: text"}, "x")


def test_a_profile_is_a_tenant_admins_only_with_both_labels() -> None:
    name, namespace = "projectsveltos.io/serviceaccount-name", "projectsveltos.io/serviceaccount-namespace"
    assert tenant_admin({}) is None
    assert tenant_admin({name: "foo", namespace: "default"}) == Admin("default", "foo")
    with pytest.raises(NotATenantProfile, match="go together"):
        tenant_admin({name: "foo"})


def test_deployed_resources_are_recorded_as_keys_that_parse_back() -> None:
    obj = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}
    assert resource_key(obj) == "ClusterRole.rbac.authorization.k8s.io/v1:/r"
    assert parse_resource_key(resource_key(obj)) == ("rbac.authorization.k8s.io/v1", "ClusterRole", None, "r")
    namespaced = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}
    assert parse_resource_key(resource_key(namespaced)) == ("v1", "ConfigMap", "n", "c")


def profile_of(spec: dict[str, Any]) -> ClusterProfile:
    return cluster_profile_from_cr({"metadata": {"name": "p"}, "spec": spec})


def test_charts_are_referenced_as_helm_wants_them() -> None:
    chart = {
        "repositoryURL": "https://kyverno.github.io/kyverno/",
        "repositoryName": "kyverno",
        "chartName": "kyverno/kyverno",
        "chartVersion": "v2.6.0",
        "releaseName": "k",
        "releaseNamespace": "k",
    }
    profile = profile_of({"helmCharts": [chart]})
    assert chart_reference(profile.helm_charts[0]) == ("kyverno", "https://kyverno.github.io/kyverno/")
    oci = profile_of({"helmCharts": [{**chart, "repositoryURL": "oci://r.io/charts/"}]})
    assert chart_reference(oci.helm_charts[0]) == ("oci://r.io/charts/kyverno", None)
    platform = profile_hash(PRODUCTION, profile, None, [])
    assert profile_hash(PRODUCTION, profile, Admin("default", "foo"), []) != platform


# -- admin-rbac -----------------------------------------------------------------------------------------


def test_admin_rbac_rows_come_from_deployed_bindings_and_roles() -> None:
    roles = [role.role for role in seed_roles()]
    objects = grant_objects(spec(), seed_roles())
    bindings = [o for o in objects if o["kind"] == "RoleBinding"]
    cluster_role = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "view-some"}}
    cluster_role["rules"] = [
        {"apiGroups": [""], "resources": ["pods", "secrets"], "resourceNames": ["a"], "verbs": ["get"]}
    ]
    cluster_binding = {
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "view-some", "labels": {"projectsveltos.io/role-service-account-name": "hr"}},
        "roleRef": {"kind": "ClusterRole", "name": "view-some"},
    }
    orphan = {
        "kind": "RoleBinding",
        "metadata": {"name": "x", "namespace": "n"},
        "roleRef": {"kind": "Role", "name": "x"},
    }
    table = rows("Cluster:default/w", [*bindings, cluster_binding, orphan], [*roles, cluster_role])
    assert table == [
        ("Cluster:default/w", "eng", "foo-eng", "*", "*", "*", "*"),
        ("Cluster:default/w", "eng", "foo-hr", "*", "*", "*", "*"),
        ("Cluster:default/w", "hr", "*", "", "pods,secrets", "a", "get"),
    ]


SEED_FIRST_TABLE = """\
+-------------------------------+-------+-----------+------------+-----------+----------------+-------+
|            CLUSTER            | ADMIN | NAMESPACE | API GROUPS | RESOURCES | RESOURCE NAMES | VERBS |
+-------------------------------+-------+-----------+------------+-----------+----------------+-------+
| SveltosCluster:gke/production | foo   | *         | *          | *         | *              | *     |
+-------------------------------+-------+-----------+------------+-----------+----------------+-------+
"""


def test_the_table_is_drawn_as_sveltosctl_draws_it() -> None:
    out = io.StringIO()
    render([("SveltosCluster:gke/production", "foo", "*", "*", "*", "*", "*")], Console(file=out, width=10_000))
    assert out.getvalue() == SEED_FIRST_TABLE


def test_helm_is_built_from_its_go_module_at_a_pinned_version() -> None:
    assert HELM.module == "helm.sh/helm/v3"
    assert [(package, go_binary_name(package), name) for package, name in HELM.binaries] == [
        ("helm.sh/helm/v3/cmd/helm", "helm", "helm")
    ]
    assert f"version.version=v{HELM.version}" in HELM.ldflags
    assert HELM.version == "3.22.0"
