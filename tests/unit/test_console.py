"""The console's pure parts: the SSO realm, sessions, page summaries, admin-rbac rows, desired objects."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from kubetenancy.console import admin_rbac
from kubetenancy.console.login import _next_path
from kubetenancy.console.oidc import LoginStart
from kubetenancy.console.sessions import SessionStore, csrf_ok
from kubetenancy.console.summary import members, quota_lines, show_quantity, tenant_summaries
from kubetenancy.desired import console
from kubetenancy.frontdoors.components import console_component
from kubetenancy.localcluster import sso_realm


def _realm() -> dict[str, Any]:
    passwords = {user: f"pw-{user}" for user in sso_realm.SSO_USERS}
    return sso_realm.realm_document(sso_realm.Realm(passwords, "s3cret", ("https://127.0.0.1:8443/*",)))


def test_realm_has_the_walkthrough_users_with_their_groups() -> None:
    realm = _realm()
    users = {u["username"]: u for u in realm["users"]}
    assert set(users) == {"falcon@nordmart.com", "bear@nordmart.com", "dev", "dba", "mto"}
    assert users["mto"]["groups"] == ["/cluster-admins"]
    assert users["falcon@nordmart.com"]["email"] == "falcon@nordmart.com"
    assert users["falcon@nordmart.com"]["credentials"] == [
        {"type": "password", "value": "pw-falcon@nordmart.com", "temporary": False}
    ]
    assert {g["name"] for g in realm["groups"]} == {"cluster-admins", "logistics-dev", "retail-dev"}


def test_realm_clients_console_confidential_kubectl_public_with_pkce() -> None:
    clients = {c["clientId"]: c for c in _realm()["clients"]}
    console_client, kubectl = clients["kubetenancy-console"], clients["kubectl"]
    assert console_client["publicClient"] is False
    assert console_client["secret"] == "s3cret"
    assert console_client["redirectUris"] == ["https://127.0.0.1:8443/*"]
    assert kubectl["publicClient"] is True
    assert kubectl["attributes"]["pkce.code.challenge.method"] == "S256"
    assert kubectl["directAccessGrantsEnabled"] is False
    for client in clients.values():
        mapper = next(m for m in client["protocolMappers"] if m["name"] == "groups")
        assert mapper["config"]["claim.name"] == "groups"


def test_authentication_configuration_trusts_the_realm_for_kubectl_and_console() -> None:
    config = sso_realm.authentication_configuration("https://127.0.0.1:1/realms/kubetenancy", "PEM")
    (jwt,) = config["jwt"]
    assert jwt["issuer"] == {
        "url": "https://127.0.0.1:1/realms/kubetenancy",
        "certificateAuthority": "PEM",
        "audiences": ["kubectl", "kubetenancy-console"],
        "audienceMatchPolicy": "MatchAny",
    }
    assert jwt["claimMappings"]["username"] == {"claim": "preferred_username", "prefix": ""}
    assert jwt["claimMappings"]["groups"] == {"claim": "groups", "prefix": ""}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sessions_expire_when_idle_and_in_all() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=10, max_seconds=25, clock=clock)
    session = store.create("falcon@nordmart.com", (), "token", None)
    assert store.get(session.id) is session
    clock.now += 9
    assert store.get(session.id) is session  # used: the idle timer starts again
    clock.now += 11
    assert store.get(session.id) is None
    again = store.create("bear@nordmart.com", (), "token", None)
    for _ in range(3):
        clock.now += 9
        store.get(again.id)
    assert store.get(again.id) is None  # 27 s after login, past max_seconds
    assert store.get("forged") is None
    assert store.get(None) is None


def test_csrf_and_pending_logins() -> None:
    store = SessionStore()
    session = store.create("dev", (), "token", None)
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, None)
    assert not csrf_ok(session, session.csrf + "x")
    login_id = store.remember_login(LoginStart("https://idp/auth", "state-1", "nonce", "verifier"), "/tenants")
    assert store.take_login(login_id, "another-state") is None  # wrong state: refused and used up
    login_id = store.remember_login(LoginStart("https://idp/auth", "state-2", "nonce", "verifier"), "/tenants")
    taken = store.take_login(login_id, "state-2")
    assert taken is not None
    assert taken[1] == "/tenants"
    assert store.take_login(login_id, "state-2") is None  # each login is used once


@pytest.mark.parametrize(
    ("asked", "path"),
    [("/tenants/x", "/tenants/x"), ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("", "/"), (None, "/")],
)
def test_login_ends_only_on_a_local_path(asked: str | None, path: str) -> None:
    assert _next_path(asked) == path


def _quota(namespace: str, hard: dict[str, str], used: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"name": "q", "namespace": namespace}, "status": {"hard": hard, "used": used}}


def test_quota_use_is_summed_over_a_tenants_namespaces_against_the_tenant_limit() -> None:
    quotas = [
        _quota("logistics-dev", {"memory": "8Gi", "configmaps": "10"}, {"memory": "1Gi", "configmaps": "3"}),
        _quota("logistics-build", {"memory": "8Gi", "configmaps": "10"}, {"memory": "512Mi", "configmaps": "2"}),
    ]
    lines = {line.resource: line for line in quota_lines(quotas)}
    assert lines["configmaps"].used == 5
    assert lines["configmaps"].hard == 10
    assert lines["configmaps"].percent == 50
    assert lines["memory"].used_text == "1.5Gi"
    assert lines["memory"].hard_text == "8Gi"
    assert show_quantity("cpu", Fraction(1, 2)) == "500m"


def test_tenant_summaries_from_tenants_accounts_and_namespace_labels() -> None:
    tenant = {
        "metadata": {"name": "logistics"},
        "spec": {"accessControl": {"owners": {"users": ["falcon@nordmart.com"]}}},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "QuotaMissing", "message": "m"}]},
    }
    namespaces = [
        {"metadata": {"name": "logistics-dev", "labels": {"stakater.com/tenant": "logistics"}}},
        {"metadata": {"name": "node-space", "labels": {"kiosk.sh/account": "node-account"}}},
        {"metadata": {"name": "default", "labels": {}}},
    ]
    quotas = [_quota("logistics-dev", {"configmaps": "10"}, {"configmaps": "1"})]
    summaries = {s.name: s for s in tenant_summaries([tenant], [], namespaces, quotas)}
    assert set(summaries) == {"logistics", "node-account"}
    assert summaries["logistics"].failing
    assert summaries["logistics"].namespaces == ["logistics-dev"]
    assert summaries["logistics"].quota[0].used == 1
    assert summaries["node-account"].kind == ""
    assert not summaries["node-account"].failing
    assert members(tenant)["owners"] == {"users": ["falcon@nordmart.com"], "groups": []}


def test_admin_rbac_rows_only_for_provisioned_clusters() -> None:
    roles = (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: foo-eng}\n"
        "rules:\n- apiGroups: ['']\n  resources: [pods]\n  verbs: [get, list]\n"
    )
    holder = {"metadata": {"name": "full", "namespace": "default"}, "data": {"role.yaml": roles}}
    request = {
        "spec": {
            "serviceAccountName": "foo",
            "roleRefs": [{"kind": "ConfigMap", "namespace": "default", "name": "full"}],
        },
        "status": {
            "clusterInfo": [
                {
                    "cluster": {"kind": "SveltosCluster", "namespace": "gke", "name": "production"},
                    "status": "Provisioned",
                },
                {"cluster": {"kind": "Cluster", "namespace": "default", "name": "other"}, "status": "Failed"},
            ]
        },
    }
    assert admin_rbac.rows([request], {("default", "full"): holder}) == [
        ("SveltosCluster:gke/production", "foo", "foo-eng", "", "pods", "*", "get,list")
    ]


def _components(spec: dict[str, Any]) -> Any:
    return console_component({"components": spec})


def test_console_objects_follow_the_integration_config() -> None:
    assert console.console_objects(None, "multi-tenant-operator") == []
    assert console.console_objects(_components({"console": False, "showback": True}), "mto") == []
    objects = console.console_objects(_components({"console": True}), "multi-tenant-operator")
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("ServiceAccount", "tenant-operator-console"),
        ("Deployment", "tenant-operator-console"),
        ("Service", "tenant-operator-console"),
    ]
    pod = objects[1]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False  # the console has no Kubernetes identity
    assert all(o["metadata"]["labels"]["kubetenancy.dev/component"] == "console" for o in objects)


def test_console_ingresses_per_configured_host() -> None:
    spec = {
        "console": True,
        "ingress": {
            "ingressClassName": "nginx",
            "console": {"host": "console.example.com", "tlsSecretName": "console-tls"},
            "gateway": {"host": "gateway.example.com"},
            "keycloak": {"host": "keycloak.example.com"},
        },
    }
    ingresses = {
        o["metadata"]["name"]: o for o in console.console_objects(_components(spec), "mto") if o["kind"] == "Ingress"
    }
    assert set(ingresses) == {"tenant-operator-console", "tenant-operator-gateway", "tenant-operator-keycloak"}
    rule = ingresses["tenant-operator-console"]["spec"]["rules"][0]
    assert rule["host"] == "console.example.com"
    assert ingresses["tenant-operator-console"]["spec"]["tls"] == [
        {"hosts": ["console.example.com"], "secretName": "console-tls"}
    ]
    assert ingresses["tenant-operator-gateway"]["spec"]["ingressClassName"] == "nginx"
    backend = ingresses["tenant-operator-keycloak"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend["service"]["name"] == "tenant-operator-keycloak"
    consolidated = console.console_objects(
        _components({"console": True, "ingress": {"host": "mto.example.com"}}), "mto"
    )
    assert [o["metadata"]["name"] for o in consolidated if o["kind"] == "Ingress"] == ["tenant-operator-console"]
