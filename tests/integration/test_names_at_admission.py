"""Names that cannot become namespaces are refused where they are written: a Tenant's namespace lists and
sandboxes at admission, a Space's name before its account's limit (real API server, real users)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.k8s.passthrough import Passthrough
from kubetenancy.localcluster.controlplane import Cluster
from tests.conftest import AggregatedServer
from tests.support.kiosk import SPACES, account_namespace, let_create_spaces, make_account, space
from tests.support.tenants import TENANT_API, make_quota

pytestmark = pytest.mark.integration


async def test_tenant_namespaces_that_cannot_exist_are_refused_with_their_field(operator: str, admin: Kube) -> None:
    await make_quota(admin, "names-quota", {"pods": "5"})
    for spec, expected in [
        (
            {"namespaces": {"withTenantPrefix": ["Dev_Ns"]}},
            'spec.namespaces.withTenantPrefix[0]: Invalid value: "Dev_Ns": namespace "names-Dev_Ns": '
            "a lowercase RFC 1123 label must consist of",
        ),
        (
            {"namespaces": {"withoutTenantPrefix": ["n" * 64]}},
            f'spec.namespaces.withoutTenantPrefix[0]: Invalid value: "{"n" * 64}": must be no more than 63',
        ),
        (
            {
                "namespaces": {"sandboxes": {"enabled": True}},
                "accessControl": {"owners": {"users": ["u" * 50 + "@nordmart.com"]}},
            },
            'spec.accessControl.owners.users[0]: Invalid value: "' + "u" * 50 + '@nordmart.com": namespace '
            f'"names-{"u" * 50}-nordmart-com-sandbox": must be no more than 63 characters',
        ),
    ]:
        tenant = {
            "apiVersion": TENANT_API,
            "kind": "Tenant",
            "metadata": {"name": "names"},
            "spec": {"quota": "names-quota", **spec},
        }
        with pytest.raises(ApiError) as raised:
            await admin.apply(tenant)
        assert raised.value.status.code == 422
        prefix = 'admission webhook "tenants.kubetenancy.dev" denied the request: '
        assert prefix + 'Tenant.tenantoperator.stakater.com "names" is invalid: ' in raised.value.status.message
        assert expected in raised.value.status.message
    assert await admin.get(TENANT_API, "Tenant", "names") is None


@pytest.fixture
async def as_user(cluster: Cluster) -> AsyncIterator[Callable[[str], Passthrough]]:
    opened: list[Passthrough] = []

    def make(user: str) -> Passthrough:
        opened.append(Passthrough(cluster.kubeconfig(user)))
        return opened[-1]

    yield make
    for api in opened:
        await api.close()


async def test_a_spaces_name_is_judged_before_its_accounts_limit(
    apiserver: AggregatedServer, admin: Kube, as_user: Callable[[str], Passthrough]
) -> None:
    await make_account(admin, "names-full", "alice", limit=1)
    await account_namespace(admin, "names-full-1", "names-full")
    await let_create_spaces(admin, "alice")
    alice = as_user("alice")
    code, refused = await alice.request("POST", SPACES, body=space("Dev_Ns", "names-full"))
    assert code == 422, refused
    assert refused["reason"] == "Invalid"
    assert refused["message"].startswith(
        'Space.tenancy.kiosk.sh "Dev_Ns" is invalid: metadata.name: Invalid value: "Dev_Ns": a lowercase RFC 1123'
    )
    code, refused = await alice.request("POST", SPACES, body=space("names-full-2", "names-full"))
    assert code == 403, refused
    assert refused["message"].endswith("space limit of 1 reached for account names-full")
    code, refused = await alice.request("POST", SPACES, body=space("names-full-1", "names-full"))
    assert code in (403, 409), refused  # the limit is judged first; either way the answer names a Space
    assert "spaces" in refused["message"]
    assert "Namespace" not in refused["message"]
