"""Rule: a Quota that tenants use cannot be deleted."""

from __future__ import annotations

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.frontdoors.table import MTO_QUOTA


def quota_not_in_use(request: Request, view: TenancyView) -> Decision:
    users = view.tenants_using_quota(request.name)
    if not users:
        return Decision.allow()
    return Decision.deny(
        f'{MTO_QUOTA.served.qualified_kind} "{request.name}" is forbidden: it is used by tenant(s) '
        f"{', '.join(users)}: point their spec.quota at another Quota before deleting it"
    )
