"""The ordered list of webhooks and the rules each runs: one source for the server's routing and for the
webhook configurations. The first rule that denies decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from kubetenancy.admission.capa_identities import identity_is_sound
from kubetenancy.admission.capa_identity_use import identity_may_be_used
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
from kubetenancy.api import kiosk_templates, tenantoperator_templates
from kubetenancy.api.capa import CONSUMER_KINDS, IDENTITY_KINDS, ROLE_IDENTITY
from kubetenancy.api.crd import ServedKind
from kubetenancy.api.kiosk import ACCOUNT_QUOTA_V1ALPHA1, ACCOUNT_V1ALPHA1
from kubetenancy.api.sveltos import CLUSTER_PROFILE_V1BETA1, ROLE_REQUEST_V1BETA1, SVELTOS_CLUSTER_V1BETA1
from kubetenancy.api.tenantoperator import INTEGRATION_CONFIG_V1BETA1, QUOTA_V1BETA1, TENANT_V1BETA3
from kubetenancy.desired.pod_security import ALWAYS_PULL_LABEL
from kubetenancy.desired.tenant import POLICY_LABEL
from kubetenancy.desired.webhooks import (
    MANAGED_OBJECTS,
    TENANT_NAMESPACES,
    WebhookSpec,
    not_system_namespaces,
    rule,
)
from kubetenancy.model import TENANT_LABEL

Rule = Callable[[Request, TenancyView], Decision]
TENANTS = "/validate/tenants"
QUOTA_RESERVE = "/validate/tenant-quota-reserve"
QUOTA_SETTLE = "/validate/tenant-quota-settle"
CAPA_CLUSTERS = "/validate/capa-clusters"
CAPA_IDENTITIES = "/validate/capa-identities"
POLICY_NAMESPACES = {"matchLabels": {POLICY_LABEL: "enforced"}}
TEMPLATES = {k.group: k for k in (kiosk_templates.TEMPLATE_V1ALPHA1, tenantoperator_templates.TEMPLATE_V1ALPHA1)}
WRITE = ["CREATE", "UPDATE"]


@dataclass(frozen=True)
class Registered:
    spec: WebhookSpec
    rules: tuple[Rule, ...]


def _typed(*kinds: ServedKind) -> Rule:
    by_kind = {(kind.group, kind.kind): kind for kind in kinds}

    def check(request: Request, view: TenancyView) -> Decision:
        kind = by_kind.get((request.group, request.kind))
        return Decision.allow() if request.operation == "DELETE" or kind is None else validate_spec(request, kind)

    return check


def _only(operation: str, rule_fn: Rule) -> Rule:
    def check(request: Request, view: TenancyView) -> Decision:
        return rule_fn(request, view) if request.operation == operation else Decision.allow()

    return check


def _served(kind: ServedKind, operations: list[str]) -> dict[str, object]:
    return rule(kind.group, kind.version, [kind.plural], operations)


def registry(operator_namespace: str) -> list[Registered]:
    crd = partial(WebhookSpec, failure_policy="Fail", bypassable=False)
    return [
        Registered(
            crd(
                name="tenants.kubetenancy.dev",
                path=TENANTS,
                rules=(_served(TENANT_V1BETA3, WRITE),),
                why="only Tenants depend on it; a Tenant without its Quota or with another's namespaces is unsafe",
            ),
            (
                _typed(TENANT_V1BETA3),
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
                rules=(_served(ACCOUNT_V1ALPHA1, WRITE),),
                why="only Accounts depend on it; an Account named like a Tenant would claim its namespaces",
            ),
            (_typed(ACCOUNT_V1ALPHA1), pod_security_not_looser, tenant_name_must_be_free),
        ),
        Registered(
            crd(
                name="accountquotas.kubetenancy.dev",
                path="/validate/accountquotas",
                rules=(_served(ACCOUNT_QUOTA_V1ALPHA1, WRITE),),
                why="only AccountQuotas depend on it",
            ),
            (_typed(ACCOUNT_QUOTA_V1ALPHA1),),
        ),
        Registered(
            crd(
                name="quotas.kubetenancy.dev",
                path="/validate/quotas",
                rules=(_served(QUOTA_V1BETA1, [*WRITE, "DELETE"]),),
                why="only Quotas depend on it; deleting a Quota in use would leave tenants unlimited",
            ),
            (_typed(QUOTA_V1BETA1), _only("DELETE", quota_not_in_use)),
        ),
        Registered(
            crd(
                name="integrationconfigs.kubetenancy.dev",
                path="/validate/integrationconfigs",
                rules=(_served(INTEGRATION_CONFIG_V1BETA1, WRITE),),
                why="only the IntegrationConfig depends on it",
            ),
            (_typed(INTEGRATION_CONFIG_V1BETA1),),
        ),
        Registered(
            crd(
                name="templates.kubetenancy.dev",
                path="/validate/templates",
                rules=tuple(_served(k, WRITE) for k in TEMPLATES.values()),
                why="only Templates depend on it; a bad validation regex or manifest would fail every instance",
            ),
            (lambda request, view: validate_spec(request, TEMPLATES[request.group]),),
        ),
        Registered(
            crd(
                name="sveltos.kubetenancy.dev",
                path="/validate/sveltos",
                rules=tuple(
                    _served(kind, WRITE)
                    for kind in (SVELTOS_CLUSTER_V1BETA1, ROLE_REQUEST_V1BETA1, CLUSTER_PROFILE_V1BETA1)
                ),
                why="only SveltosClusters, RoleRequests and ClusterProfiles depend on it; features kubetenancy does "
                "not serve are refused instead of silently dropped",
            ),
            (_typed(SVELTOS_CLUSTER_V1BETA1, ROLE_REQUEST_V1BETA1, CLUSTER_PROFILE_V1BETA1),),
        ),
        Registered(
            WebhookSpec(
                name="tenant-admin-labels.kubetenancy.dev",
                path="/mutate/clusterprofiles",
                rules=(_served(CLUSTER_PROFILE_V1BETA1, WRITE),),
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
                path=CAPA_CLUSTERS,
                rules=(
                    *(rule(k.group, "*", [k.plural], WRITE) for k in CONSUMER_KINDS),
                    rule("cluster.x-k8s.io", "*", ["clusters"], WRITE),
                ),
                why="only Cluster API AWS objects depend on it; failing open would let a cluster take over another "
                "namespace's VPC (CAPA still checks identities itself when it reconciles)",
                namespace_selector=not_system_namespaces(operator_namespace),
                requires_crds=(ROLE_IDENTITY.crd_name,),
            ),
            (identity_may_be_used,),
        ),
        Registered(
            crd(
                name="capa-identities.kubetenancy.dev",
                path=CAPA_IDENTITIES,
                rules=tuple(rule(k.group, "*", [k.plural], [*WRITE, "DELETE"], "Cluster") for k in IDENTITY_KINDS),
                why="only Cluster API AWS identities depend on it; deleting one in use strands its clusters",
                requires_crds=(ROLE_IDENTITY.crd_name,),
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
                path=QUOTA_RESERVE,
                rules=(
                    rule("", "v1", ["pods", "configmaps", "secrets", "services", "persistentvolumeclaims"], ["CREATE"]),
                    rule("", "v1", ["replicationcontrollers"], ["CREATE"]),
                    rule("apps", "v1", ["deployments", "replicasets", "statefulsets", "daemonsets"], ["CREATE"]),
                    rule("batch", "v1", ["jobs", "cronjobs"], ["CREATE"]),
                ),
                failure_policy="Ignore",
                why="while the operator is down each namespace is still held to the whole tenant limit by its "
                "own ResourceQuota; failing closed would stop every object of every tenant",
                namespace_selector=TENANT_NAMESPACES,
                bypassable=False,
                side_effects="NoneOnDryRun",
            ),
            (),
        ),
        Registered(
            WebhookSpec(
                name="tenant-quota-settle.kubetenancy.dev",
                path=QUOTA_SETTLE,
                rules=(rule("", "v1", ["resourcequotas/status"], ["UPDATE"]),),
                failure_policy="Ignore",
                why="records usage and backs up the reservations; same trade-off as the reservation webhook",
                namespace_selector=TENANT_NAMESPACES,
                object_selector={"matchExpressions": [{"key": TENANT_LABEL, "operator": "Exists"}]},
                bypassable=False,
            ),
            (),
        ),
    ]
