"""Rule: the sum of a resource over all of a tenant's namespaces never exceeds the tenant's quota. Pure.

`in_use` is what the tenant's namespaces use (recorded plus reserved); `requested` what is asked for now.
Only resources the quota limits and the request increases are judged, so deleting always works.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from kubetenancy.admission.decision import Decision
from kubetenancy.quantity import format_quantity, parse


def within_tenant_quota(
    tenant: str, quota: str, hard: Mapping[str, str], in_use: Mapping[str, Fraction], requested: Mapping[str, Fraction]
) -> Decision:
    asked, used, limited = [], [], []
    for resource, amount in sorted(requested.items()):
        if resource not in hard or amount <= 0:
            continue
        current = in_use.get(resource, Fraction(0))
        if current + amount > parse(hard[resource]):
            asked.append(f"{resource}={format_quantity(amount)}")
            used.append(f"{resource}={format_quantity(current)}")
            limited.append(f"{resource}={hard[resource]}")
    if not asked:
        return Decision.allow()
    return Decision.deny(
        f'exceeded tenant quota: {quota} (tenant "{tenant}", all its namespaces together), requested: '
        f"{','.join(asked)}, used: {','.join(used)}, limited: {','.join(limited)}"
    )
