"""Kiosk Accounts on the engine: names unique across tenant APIs, subjects' role in every space, and the
tenancy.kiosk.sh view of accounts (each user sees theirs; writes are the caller's own)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kubetenancy.k8s import ApiError, Identity, Kube
from kubetenancy.k8s.passthrough import Passthrough
from kubetenancy.localcluster.controlplane import Cluster
from tests.conftest import AggregatedServer
from tests.support.kiosk import account_namespace, let_create_spaces, make_account, subjects
from tests.support.tenants import make_quota, make_tenant
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
ACCOUNTS = "/apis/tenancy.kiosk.sh/v1alpha1/accounts"


@pytest.fixture
async def raw(cluster: Cluster) -> AsyncIterator[Passthrough]:
    api = Passthrough(cluster.kubeconfig())
    yield api
    await api.close()


async def test_an_account_may_not_take_an_mto_tenants_name(operator: str, admin: Kube) -> None:
    await make_quota(admin, "shared-name-quota", {"pods": "1"})
    await make_tenant(admin, "shared-name", "shared-name-quota")
    with pytest.raises(ApiError) as refused:
        await make_account(admin, "shared-name", "alice")
    assert refused.value.status.code == 403
    assert refused.value.status.message == (
        'admission webhook "accounts.kubetenancy.dev" denied the request: Account.config.kiosk.sh "shared-name" '
        'is forbidden: the name is taken by Tenant.tenantoperator.stakater.com "shared-name": tenant names are '
        "unique across MTO Tenants and Kiosk Accounts; choose another name"
    )


async def test_subjects_get_the_accounts_role_in_each_space(operator: str, admin: Kube) -> None:
    await make_account(admin, "roles", "alice", clusterRole="view")
    await account_namespace(admin, "roles-space", "roles")

    async def bound() -> bool:
        binding = await admin.get(
            "rbac.authorization.k8s.io/v1", "RoleBinding", "kubetenancy-owner-view", "roles-space"
        )
        return binding is not None and binding["subjects"] == subjects("alice")

    await eventually(bound)
    account = await admin.get("config.kiosk.sh/v1alpha1", "Account", "roles")
    assert account is not None
    assert account["status"]["namespaces"] == [{"name": "roles-space"}]


async def test_users_see_only_their_accounts_and_cannot_write_them(
    apiserver: AggregatedServer, admin: Kube, raw: Passthrough
) -> None:
    await make_account(admin, "seen-by-alice", "alice")
    await make_account(admin, "seen-by-bob", "bob")
    code, listing = await raw.request("GET", ACCOUNTS, identity=Identity("alice"))
    assert code == 200, listing
    names = {item["metadata"]["name"] for item in listing["items"]}
    assert "seen-by-alice" in names
    assert "seen-by-bob" not in names
    # RBAC lets a member get only their own account by name; someone who may get every account (Kiosk's
    # kiosk-edit) still does not learn of others' from the aggregated API.
    code, hidden = await raw.request("GET", f"{ACCOUNTS}/seen-by-bob", identity=Identity("carol-accounts"))
    assert code == 403, hidden
    await let_create_spaces(admin, "alice")
    code, hidden = await raw.request("GET", f"{ACCOUNTS}/seen-by-bob", identity=Identity("alice"))
    assert (code, hidden["message"]) == (404, 'accounts.tenancy.kiosk.sh "seen-by-bob" not found')
    code, everyone = await raw.request("GET", ACCOUNTS)
    assert {"seen-by-alice", "seen-by-bob"} <= {item["metadata"]["name"] for item in everyone["items"]}

    # Writes act as the caller: the cluster admin may, alice (even if allowed to write the view) may not.
    account = {"apiVersion": "tenancy.kiosk.sh/v1alpha1", "kind": "Account", "metadata": {"name": "by-view"},
               "spec": {"subjects": subjects("alice")}}  # fmt: skip
    code, created = await raw.request("POST", ACCOUNTS, body=account)
    assert code == 201, created
    assert created["apiVersion"] == "tenancy.kiosk.sh/v1alpha1"
    assert await admin.get("config.kiosk.sh/v1alpha1", "Account", "by-view") is not None
    await admin.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "test-alice-writes-account-views"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kiosk-edit-accounts"},
            "subjects": subjects("alice"),
        }
    )
    await admin.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "kiosk-edit-accounts"},
            "rules": [{"apiGroups": ["tenancy.kiosk.sh"], "resources": ["accounts"], "verbs": ["create", "delete"]}],
        }
    )
    refused: dict[str, object] = {}

    async def refused_by_the_config_api() -> bool:
        # Until the new binding reaches the API server's authorizer, the view itself refuses alice.
        nonlocal refused
        code, refused = await raw.request("DELETE", f"{ACCOUNTS}/by-view", identity=Identity("alice"))
        assert code == 403, refused
        return 'in API group "config.kiosk.sh"' in str(refused["message"])

    await eventually(refused_by_the_config_api)
    assert 'User "alice" cannot delete resource "accounts" in API group "config.kiosk.sh"' in str(refused["message"])
    assert await admin.get("config.kiosk.sh/v1alpha1", "Account", "by-view") is not None
