"""Every admission rule, as a pure function of a request and the tenancy view."""

from __future__ import annotations

from typing import Any

from kubetenancy.admission import Request
from kubetenancy.admission.classes_and_hosts import uses_allowed_classes_and_hosts
from kubetenancy.admission.managed_objects import managed_objects_are_read_only
from kubetenancy.admission.namespace_tenancy import namespace_stays_in_tenant
from kubetenancy.admission.quota_in_use import quota_not_in_use
from kubetenancy.admission.tenant_namespaces_unclaimed import namespaces_must_be_free
from kubetenancy.admission.tenant_quota_exists import quota_must_exist
from kubetenancy.admission.view import TenancyView
from kubetenancy.admission.workloads import registry_of, workload_follows_tenant_policy
from kubetenancy.frontdoors.tenantoperator import tenant_from_cr
from kubetenancy.model import ClusterPolicy, TenantQuota
from kubetenancy.operator.tenancy_index import TenancyIndex


def view(policy: ClusterPolicy | None = None, **tenants: dict[str, Any]) -> TenancyView:
    index = TenancyIndex()
    index.set_policy(policy or ClusterPolicy(disable_node_port_services=True, disable_host_ports=True))
    for name, spec in tenants.items():
        index.put_tenant(tenant_from_cr(name, {"quota": "small", **spec}, None), "Tenant.tenantoperator.stakater.com")
    index.quota_seen("small", TenantQuota("small"), names_tenant=False)
    return index.view


def request(kind: str, obj: dict[str, Any], *, operation: str = "CREATE", user: str = "alice", **extra: Any) -> Request:
    name = obj.get("metadata", {}).get("name", "")
    namespace = obj.get("metadata", {}).get("namespace")
    fields: dict[str, Any] = {"group": "", "namespace": namespace, "groups": (), "obj": obj}
    fields.update(extra)
    return Request(operation=operation, kind=kind, name=name, user=user, **fields)


LOGISTICS = {"namespaces": {"withTenantPrefix": ["dev"]}, "accessControl": {"owners": {"users": ["alice"]}}}


def test_quota_must_exist() -> None:
    assert quota_must_exist(request("Tenant", {"metadata": {"name": "t"}, "spec": {"quota": "small"}}), view()).allowed
    denied = quota_must_exist(request("Tenant", {"metadata": {"name": "t"}, "spec": {"quota": "big"}}), view())
    assert (denied.allowed, denied.code) == (False, 422)
    assert 'spec.quota: Not found: "big"' in denied.message


def test_namespaces_must_be_free() -> None:
    current = view(logistics=LOGISTICS)
    mine = request("Tenant", {"metadata": {"name": "logistics"}, "spec": {"quota": "small", **LOGISTICS}})
    assert namespaces_must_be_free(mine, current).allowed
    theirs = request(
        "Tenant",
        {
            "metadata": {"name": "retail"},
            "spec": {"quota": "small", "namespaces": {"withoutTenantPrefix": ["logistics-dev"]}},
        },
    )
    assert '"logistics-dev" (tenant "logistics")' in namespaces_must_be_free(theirs, current).message


def test_system_and_privileged_namespaces_are_never_a_tenants() -> None:
    current = view(ClusterPolicy(privileged_namespaces=("openshift-.*",)))
    for ns in ("kube-system", "openshift-monitoring"):
        spec = {"quota": "small", "namespaces": {"withoutTenantPrefix": [ns]}}
        decision = namespaces_must_be_free(request("Tenant", {"metadata": {"name": "t"}, "spec": spec}), current)
        assert f"{ns} cannot belong to a tenant" in decision.message


def test_quota_in_use() -> None:
    current = view(logistics=LOGISTICS)
    assert (
        "used by tenant(s) logistics"
        in quota_not_in_use(request("Quota", {"metadata": {"name": "small"}}), current).message
    )
    assert quota_not_in_use(request("Quota", {"metadata": {"name": "other"}}), current).allowed


def namespace(name: str, tenant: str | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"kubetenancy.dev/tenant": tenant} if tenant else {}}}


def test_namespace_creation_by_owners() -> None:
    current = view(logistics=LOGISTICS, retail={"accessControl": {"owners": {"users": ["bob"]}}})
    assert namespace_stays_in_tenant(request("Namespace", namespace("n", "logistics")), current).allowed
    assert (
        'does not own tenant "retail"'
        in namespace_stays_in_tenant(request("Namespace", namespace("n", "retail")), current).message
    )
    assert "label it kubetenancy.dev/tenant=<tenant> with one of: logistics" in (
        namespace_stays_in_tenant(request("Namespace", namespace("n")), current).message
    )
    assert namespace_stays_in_tenant(request("Namespace", namespace("n"), user="not-a-tenant-user"), current).allowed
    mto_label = {"metadata": {"name": "n", "labels": {"stakater.com/tenant": "retail"}}}
    assert not namespace_stays_in_tenant(request("Namespace", mto_label), current).allowed


def test_namespaces_do_not_move() -> None:
    moved = request("Namespace", namespace("n", "retail"), operation="UPDATE", old=namespace("n", "logistics"))
    assert "may not move the namespace out of tenant logistics" in namespace_stays_in_tenant(moved, view()).message
    unlabelled = request("Namespace", namespace("n"), operation="UPDATE", old=namespace("n", "logistics"))
    assert not namespace_stays_in_tenant(unlabelled, view()).allowed
    relabelled = request("Namespace", namespace("n", "logistics"), operation="UPDATE", old=namespace("n", "logistics"))
    assert namespace_stays_in_tenant(relabelled, view()).allowed


def test_managed_objects() -> None:
    binding = {
        "metadata": {
            "name": "kubetenancy-owner-admin",
            "namespace": "logistics-dev",
            "labels": {"kubetenancy.dev/tenant": "logistics"},
        }
    }
    decision = managed_objects_are_read_only(request("RoleBinding", binding, operation="DELETE", old=binding), view())
    assert decision.message.startswith(
        'rolebindings "kubetenancy-owner-admin" is forbidden: User "alice" cannot delete it: kubetenancy manages '
        'it for tenant "logistics"'
    )


def deployment(image: str, **pod: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "strict-dev"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}], **pod}}},
    }


STRICT = {
    "namespaces": {"withTenantPrefix": ["dev"]},
    "imageRegistries": {"allowed": ["ghcr.io", ""]},
    "serviceAccounts": {"denied": ["admin-sa"]},
    "podPriorityClasses": {"allowed": ["low"]},
}


def test_workloads() -> None:
    current = view(strict=STRICT)
    assert workload_follows_tenant_policy(
        request("Deployment", deployment("nginx", priorityClassName="low")), current
    ).allowed
    denied = workload_follows_tenant_policy(
        request("Deployment", deployment("quay.io/x", serviceAccountName="admin-sa")), current
    )
    assert 'service account "admin-sa" is denied' in denied.message
    assert 'image "quay.io/x" comes from registry "quay.io"' in denied.message
    assert 'priority class "" is not allowed' in denied.message
    cron = {
        "metadata": {"name": "c", "namespace": "strict-dev"},
        "spec": {
            "jobTemplate": {
                "spec": {"template": {"spec": {"priorityClassName": "low", "containers": [{"image": "evil.io/x"}]}}}
            }
        },
    }
    assert "evil.io" in workload_follows_tenant_policy(request("CronJob", cron), current).message
    host_port = {
        "metadata": {"name": "p", "namespace": "strict-dev"},
        "spec": {"priorityClassName": "low", "containers": [{"name": "c", "image": "x", "ports": [{"hostPort": 80}]}]},
    }
    assert "uses a hostPort" in workload_follows_tenant_policy(request("Pod", host_port), current).message
    outside = {"metadata": {"name": "p", "namespace": "elsewhere"}, "spec": {"containers": [{"image": "evil.io/x"}]}}
    assert workload_follows_tenant_policy(request("Pod", outside), current).allowed


def test_registry_of_image_references() -> None:
    assert registry_of("nginx") == ""
    assert registry_of("library/nginx:1") == ""
    assert registry_of("ghcr.io/stakater/x:1") == "ghcr.io"
    assert registry_of("localhost:5000/x") == "localhost:5000"


def test_classes_hosts_and_node_ports() -> None:
    current = view(
        strict={
            "namespaces": {"withTenantPrefix": ["dev"]},
            "storageClasses": {"allowed": ["fast"]},
            "ingressClasses": {"allowed": ["nginx"]},
            "hostValidationConfig": {
                "allowed": ["app.example.com"],
                "allowedRegex": "^[a-z]+\\.dev\\.example\\.com$",
                "denyWildcards": True,
            },
        }
    )

    def check(kind: str, spec: dict[str, Any]) -> str:
        obj = {"metadata": {"name": "o", "namespace": "strict-dev"}, "spec": spec}
        return uses_allowed_classes_and_hosts(request(kind, obj), current).message

    assert check("PersistentVolumeClaim", {"storageClassName": "fast"}) == ""
    assert check("PersistentVolumeClaim", {}) == "", "no class: decided later by the default class"
    assert 'storage class "slow" is not allowed' in check("PersistentVolumeClaim", {"storageClassName": "slow"})
    assert 'ingress class "" is not allowed' in check("Ingress", {"rules": [{"host": "app.example.com"}]})
    assert check("Ingress", {"ingressClassName": "nginx", "rules": [{"host": "api.dev.example.com"}]}) == ""
    assert 'host "other.com" is not allowed' in check(
        "Ingress", {"ingressClassName": "nginx", "rules": [{"host": "other.com"}]}
    )
    assert 'wildcard host "*.example.com"' in check(
        "Ingress", {"ingressClassName": "nginx", "rules": [{"host": "*.example.com"}]}
    )
    assert "NodePort are not allowed" in check("Service", {"type": "NodePort"})
