"""Rule: a Tenant may not list a namespace that belongs to another tenant."""

from __future__ import annotations

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.frontdoors.tenantoperator import tenant_from_cr


def namespaces_must_be_free(request: Request, view: TenancyView) -> Decision:
    wanted = tenant_from_cr(request.name, request.obj.get("spec") or {}, None).namespace_names()
    claims = view.namespace_claims()
    taken = [f'"{ns}" (tenant "{claims[ns]}")' for ns in wanted if claims.get(ns, request.name) != request.name]
    if not taken:
        return Decision.allow()
    return Decision.deny(
        f'Tenant.tenantoperator.stakater.com "{request.name}" is forbidden: spec.namespaces: namespaces already '
        f"belong to other tenants: {', '.join(taken)}; choose other names"
    )
