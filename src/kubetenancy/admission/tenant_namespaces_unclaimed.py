"""Rule: a Tenant may not list a namespace that belongs to another tenant, a system namespace, or one
the IntegrationConfig marks privileged."""

from __future__ import annotations

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.desired.webhooks import SYSTEM_NAMESPACES
from kubetenancy.frontdoors.table import MTO_TENANT


def namespaces_must_be_free(request: Request, view: TenancyView) -> Decision:
    wanted = request.model(MTO_TENANT).namespace_names()
    kind = MTO_TENANT.served.qualified_kind
    reserved = [ns for ns in wanted if ns in SYSTEM_NAMESPACES or view.policy.is_privileged_namespace(ns)]
    if reserved:
        return Decision.deny(
            f'{kind} "{request.name}" is forbidden: spec.namespaces: '
            f"{', '.join(reserved)} cannot belong to a tenant (system or privileged namespaces)"
        )
    claims = view.namespace_claims()
    taken = [f'"{ns}" (tenant "{claims[ns]}")' for ns in wanted if claims.get(ns, request.name) != request.name]
    if not taken:
        return Decision.allow()
    return Decision.deny(
        f'{kind} "{request.name}" is forbidden: spec.namespaces: namespaces already '
        f"belong to other tenants: {', '.join(taken)}; choose other names"
    )
