"""Members read their own tenant by name, and nothing else of the cluster: `kubectl apply` of a tenant
Namespace works for its owner, `get` on Spaces and Accounts is granted only for what the user may see, and
both follow the tenant's namespaces as they change. Real users with their own tokens, real kubectl."""

from __future__ import annotations

import pytest

from kubetenancy.k8s import Kube
from tests.conftest import AggregatedServer
from tests.support.kiosk import account_namespace, make_account
from tests.support.kubectl import Kubectl
from tests.support.tenants import make_quota, make_tenant
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def namespace_manifest(name: str, tenant: str, **labels: str) -> str:
    label_lines = "".join(f'\n    {key}: "{value}"' for key, value in {"stakater.com/tenant": tenant, **labels}.items())
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:{label_lines}\n"


def can_i(kubectl: Kubectl, user: str, verb: str, what: str) -> bool:
    code, output = kubectl("auth", "can-i", verb, what, user=user)
    assert output.splitlines()[0] in ("yes", "no"), output  # a warning may follow for cluster-scoped kinds
    return code == 0


async def test_owners_apply_their_tenants_namespaces(
    apiserver: AggregatedServer, admin: Kube, kubectl: Kubectl
) -> None:
    await make_quota(admin, "readacc-quota", {"pods": "10"})
    await make_tenant(
        admin,
        "readacc",
        "readacc-quota",
        namespaces={"withTenantPrefix": ["dev"]},
        accessControl={"owners": {"users": ["falcon@nordmart.com"]}, "viewers": {"users": ["bear@nordmart.com"]}},
    )
    # The owner applies the tenant's namespace with a label of their own (apply reads, then patches it).
    code, output = kubectl_apply(kubectl, "falcon@nordmart.com", namespace_manifest("readacc-dev", "readacc", team="a"))
    assert code == 0, output
    applied = await admin.get("v1", "Namespace", "readacc-dev")
    assert applied is not None
    assert applied["metadata"]["labels"]["team"] == "a"
    assert not can_i(kubectl, "bear@nordmart.com", "patch", "namespaces/readacc-dev")
    # kubetenancy's own labels stay out of the owner's hands.
    loosened = namespace_manifest(
        "readacc-dev", "readacc", team="a", **{"pod-security.kubernetes.io/enforce": "privileged"}
    )
    code, output = kubectl_apply(kubectl, "falcon@nordmart.com", loosened)
    assert code != 0
    assert "may not change the label(s) pod-security.kubernetes.io/enforce: kubetenancy keeps them" in output
    assert (
        kubectl.ok("get", "namespace", "readacc-dev", "-o", "name", user="bear@nordmart.com") == "namespace/readacc-dev"
    )
    role = await admin.get("rbac.authorization.k8s.io/v1", "ClusterRole", "kubetenancy-readacc-members")
    assert role is not None
    assert {"apiGroups": ["tenancy.kiosk.sh"], "resources": ["spaces"], "verbs": ["get"],
            "resourceNames": ["readacc-dev"]} in role["rules"], role  # fmt: skip
    code, output = kubectl("auth", "can-i", "get", "spaces.tenancy.kiosk.sh/readacc-dev", user="bear@nordmart.com")
    assert code == 0, output
    assert can_i(kubectl, "falcon@nordmart.com", "get", "tenants.tenantoperator.stakater.com/readacc")
    assert not can_i(kubectl, "falcon@nordmart.com", "get", "namespaces/kube-system")
    assert not can_i(kubectl, "falcon@nordmart.com", "list", "namespaces")

    # A namespace the owner creates joins the tenant; the operator then lets members read it by name.
    code, output = kubectl(
        "create", "-f", "-", user="falcon@nordmart.com", stdin=namespace_manifest("readacc-extra", "readacc")
    )
    assert code == 0, output

    async def readable() -> bool:
        return can_i(kubectl, "bear@nordmart.com", "get", "namespaces/readacc-extra")

    await eventually(readable)
    code, output = kubectl_apply(
        kubectl, "falcon@nordmart.com", namespace_manifest("readacc-extra", "readacc", tier="2")
    )
    assert code == 0, output
    extra = await admin.get("v1", "Namespace", "readacc-extra")
    assert extra is not None
    assert extra["metadata"]["labels"]["tier"] == "2"
    # Someone outside the tenant may read none of it.
    assert not can_i(kubectl, "dba", "get", "namespaces/readacc-dev")
    assert not can_i(kubectl, "dba", "get", "tenants.tenantoperator.stakater.com/readacc")


def kubectl_apply(kubectl: Kubectl, user: str, manifest: str) -> tuple[int, str]:
    return kubectl("apply", "-f", "-", user=user, stdin=manifest)


async def test_get_on_spaces_and_accounts_only_for_what_the_user_sees(
    apiserver: AggregatedServer, admin: Kube, kubectl: Kubectl
) -> None:
    # The walkthroughs' users of the Kiosk seed (and other tests) hold kiosk-edit, which grants `get` on
    # every Space as Kiosk's chart does; these two users never do.
    member, outsider = "sso-devteam:random-user-stakater.com", "test-benzema-mto"
    await make_account(admin, "readacc-account", member)
    await account_namespace(admin, "readacc-space", "readacc-account")

    async def member_may_get_it() -> bool:
        return can_i(kubectl, member, "get", "spaces.tenancy.kiosk.sh/readacc-space")

    await eventually(member_may_get_it)
    assert can_i(kubectl, member, "get", "accounts.tenancy.kiosk.sh/readacc-account")
    assert can_i(kubectl, member, "get", "accounts.config.kiosk.sh/readacc-account")
    shown = kubectl.ok("get", "space", "readacc-space", "-o", "name", user=member)
    assert shown == "space.tenancy.kiosk.sh/readacc-space"
    # What the benchmarks ask: no `get` on Spaces and Accounts in general, for members and others alike.
    for user in (member, outsider):
        assert not can_i(kubectl, user, "get", "spaces.tenancy.kiosk.sh")
        assert not can_i(kubectl, user, "get", "accounts.tenancy.kiosk.sh")
        assert can_i(kubectl, user, "list", "spaces.tenancy.kiosk.sh")
        assert can_i(kubectl, user, "watch", "accounts.tenancy.kiosk.sh")
    assert not can_i(kubectl, outsider, "get", "spaces.tenancy.kiosk.sh/readacc-space")
    assert "readacc-space" not in kubectl.ok("get", "spaces", "-o", "name", user=outsider)
    # The grant follows the account: a namespace that leaves it can no longer be read.
    released = {"kiosk.sh/account": None, "kubetenancy.dev/tenant": None}
    await admin.patch("v1", "Namespace", "readacc-space", {"metadata": {"labels": released}})

    async def member_may_not() -> bool:
        return not can_i(kubectl, member, "get", "spaces.tenancy.kiosk.sh/readacc-space")

    await eventually(member_may_not)
