"""Pod Security levels and image pulls of tenant namespaces, decided without a cluster."""

from __future__ import annotations

from typing import Any

from kubetenancy.admission import Request
from kubetenancy.admission.tenant_pod_security import always_pull_images, pod_security_not_looser
from kubetenancy.admission.view import TenancyView, ViewState
from kubetenancy.desired import tenant_objects
from kubetenancy.desired.pod_security import ENFORCE, strictest, with_current_levels
from kubetenancy.frontdoors.tenantoperator import cluster_policy, tenant_from_cr
from kubetenancy.model import ClusterPolicy

SPEC = {"quota": "q", "namespaces": {"withTenantPrefix": ["dev", "prod"]}}


def levels(spec: dict[str, Any], policy: ClusterPolicy, current: dict[str, str] | None = None) -> dict[str, str]:
    tenant = tenant_from_cr("t", spec, None)
    tenant = with_current_levels(tenant, {ns: {ENFORCE: level} for ns, level in (current or {}).items()})
    return {
        o["metadata"]["name"]: o["metadata"]["labels"][ENFORCE]
        for o in tenant_objects(tenant, policy, None)
        if o["kind"] == "Namespace"
    }


def test_strictest_wins_and_nothing_is_lowered() -> None:
    assert strictest("baseline", "restricted", None) == "restricted"
    assert strictest("baseline", "privileged", "nonsense") == "baseline"
    assert levels(SPEC, ClusterPolicy()) == {"t-dev": "baseline", "t-prod": "baseline"}
    assert levels(SPEC, cluster_policy({"tenantPolicies": {"podSecurity": {"level": "restricted"}}}, frozenset())) == {
        "t-dev": "restricted",
        "t-prod": "restricted",
    }
    asked = {**SPEC, "namespaces": {**SPEC["namespaces"], "metadata": {"specific": [
        {"namespaces": ["t-prod"], "labels": {ENFORCE: "restricted"}}]}}}  # fmt: skip
    assert levels(asked, ClusterPolicy()) == {"t-dev": "baseline", "t-prod": "restricted"}
    # An admin's stricter label stays; a looser one goes back up to the floor.
    assert levels(SPEC, ClusterPolicy(), {"t-dev": "restricted", "t-prod": "privileged"}) == {
        "t-dev": "restricted",
        "t-prod": "baseline",
    }


def tenant_request(metadata: dict[str, Any], kind: str = "Tenant") -> Request:
    if kind == "Tenant":
        spec: dict[str, Any] = {"quota": "q", "namespaces": {"metadata": metadata}}
        group = "tenantoperator.stakater.com"
    else:
        spec, group = {"space": {"spaceTemplate": {"metadata": metadata}}}, "config.kiosk.sh"
    obj = {"metadata": {"name": "t"}, "spec": spec}
    return Request(operation="CREATE", kind=kind, group=group, name="t", namespace=None, user="a", groups=(), obj=obj)


def test_tenants_may_only_ask_for_stricter_levels() -> None:
    strict = TenancyView(ViewState(policy=ClusterPolicy(pod_security="restricted")))
    assert pod_security_not_looser(tenant_request({"common": {"labels": {ENFORCE: "restricted"}}}), strict).allowed
    looser = pod_security_not_looser(tenant_request({"sandbox": {"labels": {ENFORCE: "baseline"}}}), strict)
    assert looser.code == 422
    assert looser.message.startswith(
        'Tenant.tenantoperator.stakater.com "t" is invalid: spec.namespaces.metadata.sandbox.labels'
        '[pod-security.kubernetes.io/enforce]: Invalid value: "baseline": looser than the cluster\'s Pod Security '
        'level "restricted"'
    )
    unknown = pod_security_not_looser(tenant_request({"labels": {ENFORCE: "strict"}}, kind="Account"), TenancyView())
    assert (
        'spec.space.spaceTemplate.metadata.labels[pod-security.kubernetes.io/enforce]: Unsupported value: "strict"'
        in (unknown.message)
    )


def test_pods_always_pull_their_images_when_asked() -> None:
    pod = {
        "spec": {
            "initContainers": [{"name": "i", "image": "busybox", "imagePullPolicy": "IfNotPresent"}],
            "containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "x", "imagePullPolicy": "Always"}],
        }
    }
    create = Request(
        operation="CREATE", kind="Pod", group="", name="p", namespace="t-dev", user="u", groups=(), obj=pod
    )
    assert always_pull_images(create, TenancyView()).patch == ()
    on = TenancyView(ViewState(policy=cluster_policy({"tenantPolicies": {"alwaysPullImages": True}}, frozenset())))
    assert list(always_pull_images(create, on).patch) == [
        {"op": "replace", "path": "/spec/initContainers/0/imagePullPolicy", "value": "Always"},
        {"op": "add", "path": "/spec/containers/0/imagePullPolicy", "value": "Always"},
    ]
    labels = tenant_objects(tenant_from_cr("t", SPEC, None), on.policy, None)[0]["metadata"]["labels"]
    assert labels["kubetenancy.dev/always-pull-images"] == "true"
