"""Every tenant webhook on the real API server, with real users; bypassed groups pass."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kubetenancy.k8s import ApiError, Kube
from tests.support.tenants import QUOTA_API, TENANT_API, make_quota, make_tenant

pytestmark = pytest.mark.integration


async def refused(call: object) -> ApiError:
    with pytest.raises(ApiError) as raised:
        await call  # type: ignore[misc]
    return raised.value


async def test_tenant_needs_an_existing_quota(operator: str, admin: Kube) -> None:
    tenant = {
        "apiVersion": TENANT_API,
        "kind": "Tenant",
        "metadata": {"name": "adm-noquota"},
        "spec": {"quota": "nope"},
    }
    error = await refused(admin.apply(tenant))
    assert error.status.code == 422
    assert error.status.message == (
        'admission webhook "tenants.kubetenancy.dev" denied the request: Tenant.tenantoperator.stakater.com '
        '"adm-noquota" is invalid: spec.quota: Not found: "nope": create the Quota "nope" first, or name an '
        "existing Quota"
    )


async def test_tenant_cannot_claim_another_tenants_namespace(operator: str, admin: Kube) -> None:
    await make_quota(admin, "adm-q1", {"pods": "10"})
    await make_tenant(admin, "adm-first", "adm-q1", namespaces={"withoutTenantPrefix": ["adm-shared"]})
    second = {
        "apiVersion": TENANT_API,
        "kind": "Tenant",
        "metadata": {"name": "adm-second"},
        "spec": {"quota": "adm-q1", "namespaces": {"withoutTenantPrefix": ["adm-shared"]}},
    }
    error = await refused(admin.apply(second))
    assert 'namespaces already belong to other tenants: "adm-shared" (tenant "adm-first")' in error.status.message


async def test_quota_in_use_cannot_be_deleted(operator: str, admin: Kube) -> None:
    await make_quota(admin, "adm-q2", {"pods": "10"})
    await make_tenant(admin, "adm-user-of-q2", "adm-q2")
    error = await refused(admin.delete(QUOTA_API, "Quota", "adm-q2"))
    assert error.status.message == (
        'admission webhook "quotas.kubetenancy.dev" denied the request: Quota.tenantoperator.stakater.com '
        '"adm-q2" is forbidden: it is used by tenant(s) adm-user-of-q2: point their spec.quota at another Quota '
        "before deleting it"
    )
    await admin.delete(TENANT_API, "Tenant", "adm-user-of-q2")


async def test_owners_create_namespaces_only_in_their_tenant(
    operator: str, admin: Kube, user_client: Callable[[str], Kube]
) -> None:
    await make_quota(admin, "adm-q3", {"pods": "10"})
    await make_tenant(admin, "adm-alices", "adm-q3", accessControl={"owners": {"users": ["alice"]}})
    await make_tenant(admin, "adm-bobs", "adm-q3", accessControl={"owners": {"users": ["bob"]}})
    alice = user_client("alice")

    def namespace(name: str, tenant: str | None) -> dict[str, object]:
        labels = {"kubetenancy.dev/tenant": tenant} if tenant else {}
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

    created = await alice.create(namespace("adm-alices-extra", "adm-alices"))
    assert created["metadata"]["name"] == "adm-alices-extra"
    error = await refused(alice.create(namespace("adm-into-bobs", "adm-bobs")))
    assert error.status.message == (
        'admission webhook "namespaces.kubetenancy.dev" denied the request: namespaces "adm-into-bobs" is '
        'forbidden: User "alice" does not own tenant "adm-bobs", so cannot create namespaces in it'
    )
    error = await refused(alice.create(namespace("adm-nowhere", None)))
    assert "is a tenant owner and can create namespaces only inside a tenant" in error.status.message

    async def adopted() -> bool:
        tenant = await admin.get(TENANT_API, "Tenant", "adm-alices")
        return "adm-alices-extra" in (tenant or {}).get("status", {}).get("namespaces", [])

    from tests.support.waiting import eventually

    await eventually(adopted)
    bindings = await admin.list("rbac.authorization.k8s.io/v1", "RoleBinding", namespace="adm-alices-extra")
    assert [b["metadata"]["name"] for b in bindings] == ["kubetenancy-owner-admin"]


async def test_namespaces_cannot_move_between_tenants_unless_bypassed(
    operator: str, admin: Kube, impersonate: Callable[..., Kube]
) -> None:
    await make_quota(admin, "adm-q4", {"pods": "10"})
    await make_tenant(admin, "adm-mover", "adm-q4", namespaces={"withTenantPrefix": ["a"]})
    # A user RBAC lets edit namespaces, but who is not a bypassed admin.
    await admin.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "adm-namespace-editor"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "namespace-editor"}],
        }
    )
    moved = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "adm-mover-a", "labels": {"kubetenancy.dev/tenant": "someone-else"}},
    }
    error = await refused(impersonate("namespace-editor").apply(moved))
    assert "may not move the namespace out of tenant adm-mover" in error.status.message
    # The same change by a member of the bypassed group (cluster-admins) passes the webhook.
    await admin.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "adm-cluster-admins"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "cluster-admins"}],
        }
    )
    relabelled = await impersonate("platform-admin", "cluster-admins").apply(moved)
    assert relabelled["metadata"]["labels"]["kubetenancy.dev/tenant"] == "someone-else"


async def test_tenant_users_cannot_change_managed_objects(
    operator: str, admin: Kube, user_client: Callable[[str], Kube]
) -> None:
    await make_quota(admin, "adm-q5", {"pods": "10"})
    await make_tenant(
        admin,
        "adm-managed",
        "adm-q5",
        namespaces={"withTenantPrefix": ["a"]},
        accessControl={"owners": {"users": ["dba"]}},
    )
    dba = user_client("dba")
    error = await refused(
        dba.delete("rbac.authorization.k8s.io/v1", "RoleBinding", "kubetenancy-owner-admin", "adm-managed-a")
    )
    assert error.status.message == (
        'admission webhook "managed-objects.kubetenancy.dev" denied the request: rolebindings '
        '"kubetenancy-owner-admin" is forbidden: User "dba" cannot delete it: kubetenancy manages it for tenant '
        '"adm-managed"; change the Tenant (or its Quota) instead'
    )
    # The owner's own RoleBindings are theirs to manage.
    own = await dba.create(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "my-viewer", "namespace": "adm-managed-a"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}],
        }
    )
    assert own["metadata"]["name"] == "my-viewer"
    assert await dba.delete("rbac.authorization.k8s.io/v1", "RoleBinding", "my-viewer", "adm-managed-a")


async def test_workload_policies_are_enforced_on_what_users_apply(
    operator: str, admin: Kube, user_client: Callable[[str], Kube]
) -> None:
    await make_quota(admin, "adm-q6", {"pods": "10"})
    await make_tenant(
        admin,
        "adm-strict",
        "adm-q6",
        namespaces={"withTenantPrefix": ["a"]},
        accessControl={"owners": {"users": ["dev"]}},
        imageRegistries={"allowed": ["ghcr.io"]},
        serviceAccounts={"denied": ["default"]},
    )
    dev = user_client("dev")
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "adm-strict-a"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }
    error = await refused(dev.create(deployment))
    assert error.status.message == (
        'admission webhook "workloads.kubetenancy.dev" denied the request: deployments "web" is forbidden: '
        'service account "default" is denied to tenant "adm-strict"; image "nginx" comes from registry "", '
        'which tenant "adm-strict" does not allow (allowed: "ghcr.io")'
    )
    pod_spec = deployment["spec"]["template"]["spec"]  # type: ignore[index]
    pod_spec["containers"][0]["image"] = "ghcr.io/stakater/nginx:1"
    await admin.apply(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "adm-strict-a"}}
    )
    pod_spec["serviceAccountName"] = "web"
    created = await dev.create(deployment)
    assert created["metadata"]["name"] == "web"


async def test_integration_config_needs_complete_default_roles(operator: str, admin: Kube) -> None:
    await admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multi-tenant-operator"}})
    config = {
        "apiVersion": QUOTA_API,
        "kind": "IntegrationConfig",
        "metadata": {"name": "tenant-operator-config", "namespace": "multi-tenant-operator"},
        "spec": {"accessControl": {"rbac": {"tenantRoles": {"default": {"owner": {"clusterRoles": ["admin"]}}}}}},
    }
    error = await refused(admin.apply(config))
    assert error.status.code == 422
    assert "tenantRoles.default must name roles for owner, editor and viewer; missing ['editor', 'viewer']" in (
        error.status.message
    )
