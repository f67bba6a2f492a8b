"""Rule: RoleBindings, ResourceQuotas, LimitRanges and NetworkPolicies kubetenancy manages are its own."""

from __future__ import annotations

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.model import TENANT_LABEL


def managed_objects_are_read_only(request: Request, view: TenancyView) -> Decision:
    tenant = request.labels.get(TENANT_LABEL, "")
    resource = f"{request.kind.lower()}s"
    verb = "delete" if request.operation == "DELETE" else "change"
    return Decision.deny(
        f'{resource} "{request.name}" is forbidden: User "{request.user}" cannot {verb} it: kubetenancy manages '
        f'it for tenant "{tenant}"; change the Tenant (or its Quota) instead'
    )
