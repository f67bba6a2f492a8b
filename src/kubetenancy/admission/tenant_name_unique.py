"""Rule: tenant names are unique across APIs: a Kiosk Account and an MTO Tenant may not share a name.

Both are one tenant to the engine, and a tenant's namespaces are found by its name; two tenants of one
name would claim each other's namespaces.
"""

from __future__ import annotations

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView


def tenant_name_must_be_free(request: Request, view: TenancyView) -> Decision:
    other = view.kinds.get(request.name)
    mine = f"{request.kind}.{request.group}"
    if request.operation != "CREATE" or other is None or other == mine:
        return Decision.allow()
    return Decision.deny(
        f'{mine} "{request.name}" is forbidden: the name is taken by {other} "{request.name}": tenant names are '
        "unique across MTO Tenants and Kiosk Accounts; choose another name"
    )
