"""`lib.projectsveltos.io`, `config.projectsveltos.io` and `cluster.x-k8s.io` → the multi-cluster model.

SveltosClusters and Cluster API Clusters become `ManagedCluster`s (with the Secret that holds their
admin kubeconfig: `<name>-sveltos-kubeconfig` or `spec.kubeconfigName` for SveltosClusters,
`<name>-kubeconfig` key `value` for Cluster API), RoleRequests `RoleRequest`s, ClusterProfiles
`ClusterProfile`s (a profile labelled with a ServiceAccount is that tenant admin's). Parses and validates
with the typed API models and nothing else: no I/O. Unreadable input raises ValueError.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetenancy.api.sveltos import (
    CAPI_CLUSTER_V1BETA1,
    CLUSTER_PROFILE_FINALIZER,
    ROLE_REQUEST_FINALIZER,
    SERVICE_ACCOUNT_NAME_LABEL,
    SERVICE_ACCOUNT_NAMESPACE_LABEL,
    SVELTOS_CLUSTER_V1BETA1,
    ClusterProfileSpec,
    RoleRequestSpec,
    Selector,
    SveltosClusterSpec,
)
from kubetenancy.cluster_model import Admin, ClusterProfile, HelmChart, ManagedCluster, Reference, RoleRequest
from kubetenancy.template_model import LabelSelector, Requirement

__all__ = [
    "CLUSTER_PROFILE_FINALIZER",
    "ROLE_REQUEST_FINALIZER",
    "SERVICE_ACCOUNT_NAMESPACE_LABEL",
    "SERVICE_ACCOUNT_NAME_LABEL",
    "NotATenantProfile",
    "capi_cluster_from_cr",
    "cluster_profile_from_cr",
    "role_request_from_cr",
    "selector",
    "sveltos_cluster_from_cr",
    "tenant_admin",
]


class NotATenantProfile(ValueError):
    """Only one of the two tenant admin labels is set."""


def selector(model: Selector) -> LabelSelector:
    requirements = tuple(Requirement(r.key, r.operator, tuple(r.values)) for r in model.match_expressions)
    return LabelSelector(dict(model.match_labels), requirements)


def sveltos_cluster_from_cr(obj: Mapping[str, Any]) -> ManagedCluster:
    meta = obj["metadata"]
    spec = SveltosClusterSpec.model_validate(obj.get("spec") or {})
    return ManagedCluster(
        kind=SVELTOS_CLUSTER_V1BETA1.kind,
        namespace=meta["namespace"],
        name=meta["name"],
        labels=dict(meta.get("labels") or {}),
        paused=spec.paused,
        secret_name=spec.kubeconfig_name or f"{meta['name']}-sveltos-kubeconfig",
        secret_key=spec.kubeconfig_key_name or None,
        failure_threshold=spec.consecutive_failure_threshold,
        api_version=SVELTOS_CLUSTER_V1BETA1.api_version,
        probed=True,
    )


def capi_cluster_from_cr(obj: Mapping[str, Any]) -> ManagedCluster:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    return ManagedCluster(
        kind=CAPI_CLUSTER_V1BETA1.kind,
        namespace=meta["namespace"],
        name=meta["name"],
        labels=dict(meta.get("labels") or {}),
        paused=bool(spec.get("paused")),
        secret_name=f"{meta['name']}-kubeconfig",
        secret_key="value",
        api_version=CAPI_CLUSTER_V1BETA1.api_version,
    )


def role_request_from_cr(obj: Mapping[str, Any]) -> RoleRequest:
    spec = RoleRequestSpec.model_validate(obj.get("spec") or {})
    return RoleRequest(
        name=obj["metadata"]["name"],
        admin=Admin(spec.service_account_namespace, spec.service_account_name),
        cluster_selector=selector(spec.cluster_selector),
        role_refs=tuple(Reference(r.kind, r.namespace, r.name) for r in spec.role_refs),
        expiration_seconds=spec.expiration_seconds,
    )


def tenant_admin(labels: Mapping[str, str]) -> Admin | None:
    """The tenant admin a profile is deployed as; None: the platform admin."""
    name, namespace = labels.get(SERVICE_ACCOUNT_NAME_LABEL), labels.get(SERVICE_ACCOUNT_NAMESPACE_LABEL)
    if name is None and namespace is None:
        return None
    if not name or not namespace:
        raise NotATenantProfile(
            f"labels {SERVICE_ACCOUNT_NAME_LABEL} and {SERVICE_ACCOUNT_NAMESPACE_LABEL} go together: set both "
            "(a tenant admin's profile) or neither (the platform admin's)"
        )
    return Admin(namespace, name)


def cluster_profile_from_cr(obj: Mapping[str, Any]) -> ClusterProfile:
    spec = ClusterProfileSpec.model_validate(obj.get("spec") or {})
    return ClusterProfile(
        name=obj["metadata"]["name"],
        admin=tenant_admin(obj["metadata"].get("labels") or {}),
        cluster_selector=selector(spec.cluster_selector),
        sync_mode=spec.sync_mode,
        stop_matching_behavior=spec.stop_matching_behavior,
        policy_refs=tuple(Reference(r.kind, r.namespace, r.name) for r in spec.policy_refs),
        helm_charts=tuple(
            HelmChart(
                repository_url=c.repository_url,
                repository_name=c.repository_name,
                chart_name=c.chart_name,
                chart_version=c.chart_version,
                release_name=c.release_name,
                release_namespace=c.release_namespace,
                values=c.values,
                action=c.helm_chart_action,
            )
            for c in spec.helm_charts
        ),
    )
