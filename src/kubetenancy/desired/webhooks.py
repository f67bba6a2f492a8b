"""The webhook configurations: which requests reach which webhook, and what happens if it is down.

Validating webhooks go in a ValidatingWebhookConfiguration, mutating ones (JSON Patch answers) in a
MutatingWebhookConfiguration, both named `kubetenancy`. Every webhook is scoped: namespaced ones only see
tenant namespaces (by label) or kubetenancy's own kinds, so `kube-system`, the operator's namespace and
non-tenant namespaces never depend on the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from typing import Any, Literal

from kubetenancy.model import MANAGED_BY, TENANT_LABEL

CONFIGURATION_NAME = "kubetenancy"
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "default")
TENANT_NAMESPACES = {"matchExpressions": [{"key": TENANT_LABEL, "operator": "Exists"}]}


@dataclass(frozen=True)
class WebhookSpec:
    name: str
    path: str
    rules: tuple[dict[str, Any], ...]
    failure_policy: Literal["Fail", "Ignore"]
    why: str
    """The reason for the failure policy, for the README's table."""
    namespace_selector: dict[str, Any] | None = None
    object_selector: dict[str, Any] | None = None
    timeout_seconds: int = 5
    side_effects: Literal["None", "NoneOnDryRun"] = "None"
    bypassable: bool = True
    """Whether bypassed groups and privileged users skip it."""
    mutating: bool = False
    """Whether it may change objects (a MutatingWebhookConfiguration entry) instead of only judging them."""
    quota_scoped: bool = False
    """Its rules are the creates of the resources some tenant quota limits (`quota_rules`), not `rules`:
    objects no quota counts never wait for it."""
    requires_crds: tuple[str, ...] = ()
    """Registered only where these CRDs exist (another project's kinds, e.g. Cluster API AWS)."""


def rule(group: str, version: str, resources: list[str], operations: list[str], scope: str = "*") -> dict[str, Any]:
    return {
        "apiGroups": [group],
        "apiVersions": [version],
        "resources": resources,
        "operations": operations,
        "scope": scope,
    }


COUNTED_BY_NAME = ("pods", "configmaps", "secrets", "services", "persistentvolumeclaims", "replicationcontrollers")
COMPUTE = ("cpu", "memory", "ephemeral-storage")


def counted_resource(quota_resource: str) -> tuple[str, str] | None:
    """(API group, resource) of the objects whose creation uses `quota_resource`, as Kubernetes' quota
    evaluators count them; None for what no create uses (or what kubetenancy does not judge)."""
    if quota_resource.startswith("count/"):
        plural, _, group = quota_resource.removeprefix("count/").partition(".")
        return group, plural
    if quota_resource in COUNTED_BY_NAME:
        return "", quota_resource
    if quota_resource.startswith("services."):
        return "", "services"
    if quota_resource == "requests.storage" or ".storageclass.storage.k8s.io/" in quota_resource:
        return "", "persistentvolumeclaims"
    if quota_resource.startswith(("requests.", "limits.", "hugepages-")) or quota_resource in COMPUTE:
        return "", "pods"
    return None


def quota_rules(limited: Iterable[str]) -> tuple[dict[str, Any], ...]:
    """One rule per API group: creates of the resources whose creation uses what some quota limits."""
    by_group: dict[str, set[str]] = {}
    for quota_resource in limited:
        counted = counted_resource(quota_resource)
        if counted is not None:
            by_group.setdefault(counted[0], set()).add(counted[1])
    return tuple(rule(group, "*", sorted(plurals), ["CREATE"]) for group, plurals in sorted(by_group.items()))


def not_system_namespaces(operator_namespace: str) -> dict[str, Any]:
    names = sorted({*SYSTEM_NAMESPACES, operator_namespace})
    return {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": names}]}


MANAGED_OBJECTS = {"matchLabels": dict(MANAGED_BY)}


def installable(specs: list[WebhookSpec], crds: set[str]) -> list[WebhookSpec]:
    """The webhooks whose required CRDs are all among `crds` (names of the cluster's CRDs)."""
    return [spec for spec in specs if set(spec.requires_crds) <= crds]


ClientConfig = Callable[[str], dict[str, Any]]


def configuration(
    specs: list[WebhookSpec], client_config: ClientConfig, limited: Set[str] = frozenset()
) -> dict[str, Any]:
    """The ValidatingWebhookConfiguration; `client_config(path)` says how the API server reaches a path,
    `limited` are the resources some tenant quota limits."""
    validating = [s for s in specs if not s.mutating]
    return _configuration("ValidatingWebhookConfiguration", validating, client_config, limited)


def configurations(
    specs: list[WebhookSpec], client_config: ClientConfig, limited: Set[str] = frozenset()
) -> list[dict[str, Any]]:
    """The validating and the mutating configuration."""
    mutating = _configuration("MutatingWebhookConfiguration", [s for s in specs if s.mutating], client_config, limited)
    return [configuration(specs, client_config, limited), mutating]


def _configuration(
    kind: str, specs: list[WebhookSpec], client_config: ClientConfig, limited: Set[str]
) -> dict[str, Any]:
    webhooks = []
    for spec in specs:
        rules = quota_rules(limited) if spec.quota_scoped else spec.rules
        webhook: dict[str, Any] = {
            "name": spec.name,
            "clientConfig": client_config(spec.path),
            "rules": list(rules),
            "failurePolicy": spec.failure_policy,
            "sideEffects": spec.side_effects,
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": spec.timeout_seconds,
            "matchPolicy": "Equivalent",
        }
        if spec.namespace_selector is not None:
            webhook["namespaceSelector"] = spec.namespace_selector
        if spec.object_selector is not None:
            webhook["objectSelector"] = spec.object_selector
        if spec.mutating:
            webhook["reinvocationPolicy"] = "Never"
        webhooks.append(webhook)
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": CONFIGURATION_NAME, "labels": dict(MANAGED_BY)},
        "webhooks": webhooks,
    }
