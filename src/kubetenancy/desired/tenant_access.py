"""What members may read of their own tenant outside its namespaces: each of its namespaces (and Spaces)
by name, the tenant's own custom resource, and the classes it may use. Pure: model in, objects out.

Kubernetes RBAC grants `get` on cluster-scoped objects by name (`resourceNames`), so one ClusterRole per
tenant names exactly what its members may see, and the operator rewrites it whenever the tenant's
namespaces change. That is what lets an owner `kubectl apply` a Namespace of the tenant (apply reads it
first), `kubectl get namespace NAME` and `kubectl get space NAME` work for members, and `kubectl auth can-i
get spaces` stay "no" for everyone else. A private sandbox is named only in a role of its own user.

Owners may also `patch`/`update` their tenant's namespaces by name (what `kubectl apply` needs); the
namespace webhook keeps kubetenancy's own labels out of their hands. Nothing here grants `list`, `watch`
or creation: lists of Spaces and Accounts come filtered from the aggregated API, and creating namespaces
is `kubetenancy-namespace-creator`'s, held by the namespace webhook.
"""

from __future__ import annotations

from typing import Any

from kubetenancy.desired.meta import OwnerRef, managed_metadata
from kubetenancy.model import TIERS, Members, Tenant

RBAC_API = "rbac.authorization.k8s.io/v1"
TENANCY_GROUP = "tenancy.kiosk.sh"
CLASS_RESOURCES = (
    ("storage.k8s.io", "storageclasses", "storage_classes"),
    ("networking.k8s.io", "ingressclasses", "ingress_classes"),
    ("scheduling.k8s.io", "priorityclasses", "priority_classes"),
)
"""(group, resource, WorkloadPolicy field) of the classes a tenant's allow-lists name."""


def members_role_name(tenant: str) -> str:
    return f"kubetenancy-{tenant}-members"


def owners_role_name(tenant: str) -> str:
    return f"kubetenancy-{tenant}-namespace-owners"


def sandbox_role_name(namespace: str) -> str:
    return f"kubetenancy-{namespace}-owner"


def _get(group: str, resource: str, names: list[str], verbs: tuple[str, ...] = ("get",)) -> dict[str, Any]:
    return {"apiGroups": [group], "resources": [resource], "verbs": list(verbs), "resourceNames": names}


EDIT = ("patch", "update")
"""What `kubectl apply` of an existing Namespace needs besides `get`; the namespace webhook keeps the labels
kubetenancy manages (tenant, account, Pod Security, policy) out of owners' hands."""


def _namespace_rules(names: list[str]) -> list[dict[str, Any]]:
    return [_get("", "namespaces", names), _get(TENANCY_GROUP, "spaces", names)] if names else []


def _own_resource_rules(owner: OwnerRef) -> list[dict[str, Any]]:
    """The tenant's custom resource (an MTO Tenant's status lists its namespaces), and a Kiosk account's
    `tenancy.kiosk.sh` view."""
    group = owner.api_version.rpartition("/")[0]
    plural = f"{owner.kind.lower()}s"
    rules = [_get(group, plural, [owner.name])]
    if owner.kind == "Account":
        rules.append(_get(TENANCY_GROUP, "accounts", [owner.name]))
    return rules


def _class_rules(tenant: Tenant) -> list[dict[str, Any]]:
    """Only classes an allow-list names: "all allowed" grants nothing, as the rest of the cluster is not the
    tenant's to read."""
    rules = []
    for group, resource, field in CLASS_RESOURCES:
        allowed = sorted(name for name in getattr(tenant.policy, field) or () if name)
        if allowed:
            rules.append(_get(group, resource, allowed))
    return rules


def _role_and_binding(
    name: str, tenant: Tenant, rules: list[dict[str, Any]], subjects: list[dict[str, str]], owner: OwnerRef | None
) -> list[dict[str, Any]]:
    if not rules or not subjects:
        return []
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}
    return [
        {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": managed_metadata(name, tenant.name, owner=owner),
         "rules": rules},
        {"apiVersion": RBAC_API, "kind": "ClusterRoleBinding",
         "metadata": managed_metadata(name, tenant.name, owner=owner), "roleRef": ref, "subjects": subjects},
    ]  # fmt: skip


def _subjects(members: Members) -> list[dict[str, str]]:
    users = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u} for u in members.users]
    groups = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in members.groups]
    return users + groups


def everyone(tenant: Tenant) -> Members:
    """Every member, whatever their tier, each once."""
    tiers = [tenant.members.get(tier, Members()) for tier in TIERS]
    return Members(
        users=tuple(dict.fromkeys(u for m in tiers for u in m.users)),
        groups=tuple(dict.fromkeys(g for m in tiers for g in m.groups)),
    )


def read_access(tenant: Tenant, owner: OwnerRef | None) -> list[dict[str, Any]]:
    """The tenant's members' ClusterRole and binding, its owners' (edit their namespaces), and one pair per
    private sandbox for its user."""
    shared = sorted(ns.name for ns in tenant.namespaces if ns.private_to is None and not ns.held)
    rules = _namespace_rules(shared) + (_own_resource_rules(owner) if owner else []) + _class_rules(tenant)
    objects = _role_and_binding(members_role_name(tenant.name), tenant, rules, _subjects(everyone(tenant)), owner)
    owners = _subjects(tenant.members.get("owner", Members()))
    # Kiosk accounts change their Spaces through the aggregated API, with the rights their space role gives.
    edit = [_get("", "namespaces", shared, EDIT)] if shared and tenant.owners_create_namespaces else []
    objects += _role_and_binding(owners_role_name(tenant.name), tenant, edit, owners, owner)
    for ns in tenant.namespaces:
        if ns.private_to is not None and not ns.held:
            subjects = _subjects(Members(users=(ns.private_to,)))
            sandbox = [*_namespace_rules([ns.name]), _get("", "namespaces", [ns.name], EDIT)]  # its owner
            objects += _role_and_binding(sandbox_role_name(ns.name), tenant, sandbox, subjects, owner)
    return objects
