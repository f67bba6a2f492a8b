"""Rule: pods and pod controllers use only the registries, service accounts, priority classes and host
ports their tenant allows. Checked on the object the user applied (a Deployment, not its pods), so the
error reaches the person who can fix it.
"""

from __future__ import annotations

from typing import Any

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.model import Tenant

POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def pod_spec(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    spec: Any = obj
    for step in POD_TEMPLATE_PATHS[kind]:
        spec = (spec or {}).get(step)
    return spec or {}


def registry_of(image: str) -> str:
    """The registry host of an image reference; "" when none is given (the runtime's default)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return ""


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for key in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(key) or []]


def _problems(tenant: Tenant, spec: dict[str, Any], disable_host_ports: bool) -> list[str]:
    policy, problems = tenant.policy, []
    account = spec.get("serviceAccountName") or "default"
    if account in policy.denied_service_accounts:
        problems.append(f'service account "{account}" is denied to tenant "{tenant.name}"')
    if policy.priority_classes:
        priority = spec.get("priorityClassName") or ""
        if priority not in policy.priority_classes:
            allowed = ", ".join(f'"{p}"' for p in sorted(policy.priority_classes))
            problems.append(
                f'priority class "{priority}" is not allowed for tenant "{tenant.name}" (allowed: {allowed})'
            )
    for container in _containers(spec):
        image = container.get("image", "")
        if policy.image_registries and registry_of(image) not in policy.image_registries:
            allowed = ", ".join(f'"{r}"' for r in sorted(policy.image_registries))
            problems.append(
                f'image "{image}" comes from registry "{registry_of(image)}", which tenant "{tenant.name}" does '
                f"not allow (allowed: {allowed})"
            )
        if disable_host_ports and any(p.get("hostPort") for p in container.get("ports") or []):
            problems.append(f'container "{container.get("name")}" uses a hostPort, which tenants may not use')
    return problems


def workload_follows_tenant_policy(request: Request, view: TenancyView) -> Decision:
    tenant = view.tenant_of_namespace(request.namespace)
    if tenant is None or request.kind not in POD_TEMPLATE_PATHS:
        return Decision.allow()
    problems = _problems(tenant, pod_spec(request.kind, request.obj), view.policy.disable_host_ports)
    if not problems:
        return Decision.allow()
    resource = f"{request.kind.lower()}s"
    return Decision.deny(f'{resource} "{request.name}" is forbidden: {"; ".join(problems)}')
