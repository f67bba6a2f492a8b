"""Rule: PVCs, Ingresses and Services use only the storage classes, ingress classes, hosts and Service
types their tenant allows.
"""

from __future__ import annotations

import re

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.model import Tenant


def _class_problem(what: str, name: str | None, allowed: frozenset[str] | None, tenant: str) -> list[str]:
    if not allowed or name is None:  # None: not managed, or (PVC) decided later by the default class
        return []
    if name in allowed:
        return []
    names = ", ".join(f'"{n}"' for n in sorted(allowed))
    return [f'{what} "{name}" is not allowed for tenant "{tenant}" (allowed: {names})']


def _host_problems(tenant: Tenant, hosts: list[str]) -> list[str]:
    policy, problems = tenant.policy, []
    for host in hosts:
        if policy.deny_wildcard_hosts and host.startswith("*"):
            problems.append(f'wildcard host "{host}" is not allowed for tenant "{tenant.name}"')
            continue
        listed = policy.allowed_hosts is not None and host in policy.allowed_hosts
        matched = policy.allowed_host_regex is not None and re.fullmatch(policy.allowed_host_regex, host)
        restricted = policy.allowed_hosts is not None or policy.allowed_host_regex is not None
        if restricted and not (listed or matched):
            problems.append(f'host "{host}" is not allowed for tenant "{tenant.name}"')
    return problems


def uses_allowed_classes_and_hosts(request: Request, view: TenancyView) -> Decision:
    tenant = view.tenant_of_namespace(request.namespace)
    if tenant is None:
        return Decision.allow()
    spec = request.obj.get("spec") or {}
    problems: list[str] = []
    if request.kind == "PersistentVolumeClaim":
        problems = _class_problem(
            "storage class", spec.get("storageClassName"), tenant.policy.storage_classes, tenant.name
        )
    elif request.kind == "Ingress":
        problems = _class_problem(
            "ingress class", spec.get("ingressClassName", ""), tenant.policy.ingress_classes, tenant.name
        )
        problems += _host_problems(tenant, [r["host"] for r in spec.get("rules") or [] if r.get("host")])
    elif request.kind == "Service" and view.policy.disable_node_port_services and spec.get("type") == "NodePort":
        problems = [f'Services of type NodePort are not allowed in tenant "{tenant.name}"']
    if not problems:
        return Decision.allow()
    return Decision.deny(f'{request.kind.lower()}s "{request.name}" is forbidden: {"; ".join(problems)}')
