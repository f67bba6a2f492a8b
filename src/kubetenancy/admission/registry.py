"""The ordered list of webhooks and the rules each runs: one source for the server's routing and for the
webhook configurations. The first rule that denies decides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from kubetenancy.admission.capa_identities import identity_is_sound
from kubetenancy.admission.capa_identity_use import claim_cluster_name, identity_may_be_used
from kubetenancy.admission.capa_namespace_labels import identity_labels_are_protected
from kubetenancy.admission.classes_and_hosts import uses_allowed_classes_and_hosts
from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.managed_objects import managed_objects_are_read_only
from kubetenancy.admission.namespace_managed_labels import managed_labels_unchanged
from kubetenancy.admission.namespace_tenancy import namespace_stays_in_tenant
from kubetenancy.admission.quota_in_use import quota_not_in_use
from kubetenancy.admission.tenant_admin_labels import stamp_tenant_admin
from kubetenancy.admission.tenant_name_unique import tenant_name_must_be_free
from kubetenancy.admission.tenant_namespace_names import namespace_names_must_be_valid
from kubetenancy.admission.tenant_namespaces_unclaimed import namespaces_must_be_free
from kubetenancy.admission.tenant_pod_security import always_pull_images, pod_security_not_looser
from kubetenancy.admission.tenant_quota_exists import quota_must_exist
from kubetenancy.admission.typed_spec import validate_spec
from kubetenancy.admission.view import TenancyView
from kubetenancy.admission.workloads import workload_follows_tenant_policy
from kubetenancy.desired.pod_security import ALWAYS_PULL_LABEL
from kubetenancy.desired.tenant import POLICY_LABEL
from kubetenancy.desired.webhooks import (
    MANAGED_OBJECTS,
    TENANT_NAMESPACES,
    WebhookSpec,
    not_system_namespaces,
    rule,
)
from kubetenancy.frontdoors.table import (
    CAPA_CLUSTERS,
    CAPA_IDENTITIES,
    CAPA_ROLE_IDENTITY,
    CAPI_CLUSTER,
    CLUSTER_PROFILE,
    KIOSK_ACCOUNT,
    KIOSK_ACCOUNT_QUOTA,
    MTO_POLICY,
    MTO_QUOTA,
    MTO_TENANT,
    ROLE_REQUEST,
    SVELTOS_CLUSTER,
    TEMPLATES,
    Door,
)
from kubetenancy.model import TENANT_LABEL

Rule = Callable[[Request, TenancyView], Decision]
Handler = Callable[[Request], Awaitable[Decision]]
POLICY_NAMESPACES = {"matchLabels": {POLICY_LABEL: "enforced"}}
TEMPLATE_KINDS = {door.served.group: door.served for door in TEMPLATES}
WRITE = ["CREATE", "UPDATE"]


class QuotaJudge(Protocol):
    """Judges the tenant-wide quota: keeps a ledger of usage and reservations (state of its own)."""

    async def reserve(self, request: Request) -> Decision: ...

    async def settle(self, request: Request) -> Decision: ...


@dataclass(frozen=True)
class Registered:
    spec: WebhookSpec
    rules: tuple[Rule, ...] = ()
    """Pure rules, run in order over the view; the first that denies decides."""
    handler: Handler | None = None
    """Instead of rules: a webhook that keeps state of its own answers itself (the quota ledger)."""
    on_admit: Callable[[Request, TenancyView], None] | None = None
    """Bookkeeping after the rules admitted a request (a CAPA create claims its cluster name)."""


def _typed(*doors: Door[Any]) -> Rule:
    by_kind = {(door.served.group, door.served.kind): door.served for door in doors}

    def check(request: Request, view: TenancyView) -> Decision:
        kind = by_kind.get((request.group, request.kind))
        return Decision.allow() if request.operation == "DELETE" or kind is None else validate_spec(request, kind)

    return check


def _only(operation: str, rule_fn: Rule) -> Rule:
    def check(request: Request, view: TenancyView) -> Decision:
        return rule_fn(request, view) if request.operation == operation else Decision.allow()

    return check


def _served(door: Door[Any], operations: list[str]) -> dict[str, object]:
    return rule(door.served.group, door.served.version, [door.served.plural], operations)


def registry(operator_namespace: str, quota: QuotaJudge) -> list[Registered]:
    """Every webhook, in order, each with its rules or its handler: built once, by the composition root."""
    crd = partial(WebhookSpec, failure_policy="Fail", bypassable=False)
    return [
        Registered(
            crd(
                name="tenants.kubetenancy.dev",
                path="/validate/tenants",
                rules=(_served(MTO_TENANT, WRITE),),
                why="only Tenants depend on it; a Tenant without its Quota or with another's namespaces is unsafe",
            ),
            (
                _typed(MTO_TENANT),
                namespace_names_must_be_valid,
                pod_security_not_looser,
                tenant_name_must_be_free,
                quota_must_exist,
                namespaces_must_be_free,
            ),
        ),
        Registered(
            crd(
                name="accounts.kubetenancy.dev",
                path="/validate/accounts",
                rules=(_served(KIOSK_ACCOUNT, WRITE),),
                why="only Accounts depend on it; an Account named like a Tenant would claim its namespaces",
            ),
            (_typed(KIOSK_ACCOUNT), pod_security_not_looser, tenant_name_must_be_free),
        ),
        Registered(
            crd(
                name="accountquotas.kubetenancy.dev",
                path="/validate/accountquotas",
                rules=(_served(KIOSK_ACCOUNT_QUOTA, WRITE),),
                why="only AccountQuotas depend on it",
            ),
            (_typed(KIOSK_ACCOUNT_QUOTA),),
        ),
        Registered(
            crd(
                name="quotas.kubetenancy.dev",
                path="/validate/quotas",
                rules=(_served(MTO_QUOTA, [*WRITE, "DELETE"]),),
                why="only Quotas depend on it; deleting a Quota in use would leave tenants unlimited",
            ),
            (_typed(MTO_QUOTA), _only("DELETE", quota_not_in_use)),
        ),
        Registered(
            crd(
                name="integrationconfigs.kubetenancy.dev",
                path="/validate/integrationconfigs",
                rules=(_served(MTO_POLICY, WRITE),),
                why="only the IntegrationConfig depends on it",
            ),
            (_typed(MTO_POLICY),),
        ),
        Registered(
            crd(
                name="templates.kubetenancy.dev",
                path="/validate/templates",
                rules=tuple(_served(door, WRITE) for door in TEMPLATES),
                why="only Templates depend on it; a bad validation regex or manifest would fail every instance",
            ),
            (lambda request, view: validate_spec(request, TEMPLATE_KINDS[request.group]),),
        ),
        Registered(
            crd(
                name="sveltos.kubetenancy.dev",
                path="/validate/sveltos",
                rules=tuple(_served(kind, WRITE) for kind in (SVELTOS_CLUSTER, ROLE_REQUEST, CLUSTER_PROFILE)),
                why="only SveltosClusters, RoleRequests and ClusterProfiles depend on it; features kubetenancy does "
                "not serve are refused instead of silently dropped",
            ),
            (_typed(SVELTOS_CLUSTER, ROLE_REQUEST, CLUSTER_PROFILE),),
        ),
        Registered(
            WebhookSpec(
                name="tenant-admin-labels.kubetenancy.dev",
                path="/mutate/clusterprofiles",
                rules=(_served(CLUSTER_PROFILE, WRITE),),
                failure_policy="Fail",
                why="only ClusterProfiles depend on it; failing open would let a tenant's unlabelled profile deploy "
                "with the platform admin's rights",
                mutating=True,
            ),
            (stamp_tenant_admin,),
        ),
        Registered(
            WebhookSpec(
                name="namespaces.kubetenancy.dev",
                path="/validate/namespaces",
                rules=(rule("", "v1", ["namespaces"], WRITE),),
                failure_policy="Ignore",
                why="namespaces are the whole cluster's; while the operator is down tenant owners are not "
                "held to their tenants (MTO makes the same trade-off)",
                object_selector=not_system_namespaces(operator_namespace),
            ),
            (namespace_stays_in_tenant, managed_labels_unchanged, identity_labels_are_protected),
        ),
        Registered(
            crd(
                name="capa-clusters.kubetenancy.dev",
                path="/validate/capa-clusters",
                rules=(
                    *(rule(d.served.group, "*", [d.served.plural], WRITE) for d in CAPA_CLUSTERS),
                    rule(CAPI_CLUSTER.served.group, "*", [CAPI_CLUSTER.served.plural], WRITE),
                ),
                why="only Cluster API AWS objects depend on it; failing open would let a cluster take over another "
                "namespace's VPC (CAPA still checks identities itself when it reconciles)",
                namespace_selector=not_system_namespaces(operator_namespace),
                requires_crds=(CAPA_ROLE_IDENTITY.served.crd_name,),
            ),
            (identity_may_be_used,),
            on_admit=claim_cluster_name,
        ),
        Registered(
            crd(
                name="capa-identities.kubetenancy.dev",
                path="/validate/capa-identities",
                rules=tuple(
                    rule(d.served.group, "*", [d.served.plural], [*WRITE, "DELETE"], "Cluster") for d in CAPA_IDENTITIES
                ),
                why="only Cluster API AWS identities depend on it; deleting one in use strands its clusters",
                requires_crds=(CAPA_ROLE_IDENTITY.served.crd_name,),
            ),
            (identity_is_sound,),
        ),
        Registered(
            WebhookSpec(
                name="managed-objects.kubetenancy.dev",
                path="/validate/managed-objects",
                rules=(
                    rule("rbac.authorization.k8s.io", "v1", ["rolebindings"], ["UPDATE", "DELETE"]),
                    rule("", "v1", ["resourcequotas", "limitranges"], ["UPDATE", "DELETE"]),
                    rule("networking.k8s.io", "v1", ["networkpolicies"], ["UPDATE", "DELETE"]),
                ),
                failure_policy="Ignore",
                why="the operator restores what was changed once it is back (drift repair)",
                namespace_selector=TENANT_NAMESPACES,
                object_selector=MANAGED_OBJECTS,
            ),
            (managed_objects_are_read_only,),
        ),
        Registered(
            WebhookSpec(
                name="workloads.kubetenancy.dev",
                path="/validate/workloads",
                rules=(
                    rule("", "v1", ["pods"], WRITE),
                    rule("apps", "v1", ["deployments", "replicasets", "statefulsets", "daemonsets"], WRITE),
                    rule("batch", "v1", ["jobs", "cronjobs"], WRITE),
                    rule("", "v1", ["persistentvolumeclaims", "services"], WRITE),
                    rule("networking.k8s.io", "v1", ["ingresses"], WRITE),
                ),
                failure_policy="Fail",
                why="a registry or class allow-list that fails open is no allow-list; only namespaces of tenants "
                "that set such a policy are selected",
                namespace_selector=POLICY_NAMESPACES,
            ),
            (workload_follows_tenant_policy, uses_allowed_classes_and_hosts),
        ),
        Registered(
            WebhookSpec(
                name="always-pull-images.kubetenancy.dev",
                path="/mutate/pods",
                rules=(rule("", "v1", ["pods"], ["CREATE"]),),
                failure_policy="Fail",
                why="a default that fails open is no guarantee; only namespaces of tenants while the "
                "IntegrationConfig asks for it are selected",
                namespace_selector={"matchLabels": {ALWAYS_PULL_LABEL: "true"}},
                bypassable=False,
                mutating=True,
            ),
            (always_pull_images,),
        ),
        Registered(
            WebhookSpec(
                name="tenant-quota-reserve.kubetenancy.dev",
                path="/validate/tenant-quota-reserve",
                rules=(),
                quota_scoped=True,
                failure_policy="Ignore",
                why="while the operator is down each namespace is still held to the whole tenant limit by its "
                "own ResourceQuota; failing closed would stop every object of every tenant; registered only for "
                "the resources some tenant quota limits",
                namespace_selector=TENANT_NAMESPACES,
                bypassable=False,
                side_effects="NoneOnDryRun",
            ),
            handler=quota.reserve,
        ),
        Registered(
            WebhookSpec(
                name="tenant-quota-settle.kubetenancy.dev",
                path="/validate/tenant-quota-settle",
                rules=(rule("", "v1", ["resourcequotas/status"], ["UPDATE"]),),
                failure_policy="Ignore",
                why="records usage and backs up the reservations; same trade-off as the reservation webhook",
                namespace_selector=TENANT_NAMESPACES,
                object_selector={"matchExpressions": [{"key": TENANT_LABEL, "operator": "Exists"}]},
                bypassable=False,
            ),
            handler=quota.settle,
        ),
    ]
