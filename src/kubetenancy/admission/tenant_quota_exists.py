"""Rule: a Tenant must name a Quota that exists (MTO refuses a Tenant without one, too)."""

from __future__ import annotations

from kubetenancy.admission.decision import Decision, Missing, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.frontdoors.table import MTO_QUOTA, MTO_TENANT


def quota_must_exist(request: Request, view: TenancyView) -> Decision:
    quota = request.model(MTO_TENANT).quota_name
    if quota is None or quota in view.quotas:
        return Decision.allow()
    return Decision.invalid(
        f'{MTO_TENANT.served.qualified_kind} "{request.name}" is invalid: spec.quota: Not found: "{quota}": '
        f'create the Quota "{quota}" first, or name an existing Quota',
        Missing(MTO_QUOTA.served.api_version, MTO_QUOTA.served.kind, quota),
    )
