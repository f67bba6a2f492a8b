"""Rule: tenant members create namespaces only in tenants they own, and never move them between tenants."""

from __future__ import annotations

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.frontdoors.tenantoperator import MTO_TENANT_LABEL
from kubetenancy.model import TENANT_LABEL

LABELS = (TENANT_LABEL, MTO_TENANT_LABEL)


def _claimed(labels: dict[str, str]) -> set[str]:
    return {labels[label] for label in LABELS if labels.get(label)}


def namespace_stays_in_tenant(request: Request, view: TenancyView) -> Decision:
    new = _claimed(request.obj.get("metadata", {}).get("labels") or {})
    subject = f'namespaces "{request.name}" is forbidden: User "{request.user}"'
    if request.operation == "UPDATE":
        old = _claimed(request.old.get("metadata", {}).get("labels") or {})
        if old and new != old:
            return Decision.deny(
                f"{subject} may not move the namespace out of tenant {', '.join(sorted(old))}: its labels "
                f"{TENANT_LABEL} and {MTO_TENANT_LABEL} can only be changed by cluster administrators"
            )
        return Decision.allow()
    owned = view.tenants_owned_by(request.user, request.groups)
    if new and view.policy.is_privileged_namespace(request.name):
        return Decision.deny(f"{subject} cannot put a privileged namespace in a tenant")
    if len(new) > 1:
        return Decision.deny(f"{subject} cannot put a namespace in several tenants: {', '.join(sorted(new))}")
    if new:
        (tenant,) = new
        if tenant in owned:
            return Decision.allow()
        return Decision.deny(f'{subject} does not own tenant "{tenant}", so cannot create namespaces in it')
    if owned:
        return Decision.deny(
            f"{subject} is a tenant owner and can create namespaces only inside a tenant: label it "
            f"{TENANT_LABEL}=<tenant> with one of: {', '.join(owned)}"
        )
    return Decision.allow()
