"""Rule: tenant names are unique across APIs: a Kiosk Account and an MTO Tenant may not share a name.

Both are one tenant to the engine, and a tenant's namespaces are found by its name; two tenants of one
name would claim each other's namespaces.
"""

from __future__ import annotations

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView

QUALIFIED = {"Tenant": "Tenant.tenantoperator.stakater.com", "Account": "Account.config.kiosk.sh"}


def tenant_name_must_be_free(request: Request, view: TenancyView) -> Decision:
    other = view.kinds.get(request.name)
    if request.operation != "CREATE" or other is None or other == request.kind:
        return Decision.allow()
    return Decision.deny(
        f'{QUALIFIED.get(request.kind, request.kind)} "{request.name}" is forbidden: the name is taken by '
        f'{QUALIFIED.get(other, other)} "{request.name}": tenant names are unique across MTO Tenants and Kiosk '
        "Accounts; choose another name"
    )
