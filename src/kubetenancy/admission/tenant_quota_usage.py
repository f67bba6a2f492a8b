"""Rule: the sum of a resource over all of a tenant's namespaces never exceeds the tenant's quota. Pure.

`in_use` is what the tenant's namespaces use (recorded plus reserved); `requested` what is asked for now.
Only resources the quota limits and the request increases are judged, so deleting always works.
A refusal that names ConfigMaps says that Kubernetes' own `kube-root-ca.crt` in every namespace counts:
owners who made 8 ConfigMaps in 2 namespaces are otherwise puzzled by `used: configmaps=10`.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from kubetenancy.admission.decision import Decision
from kubetenancy.quantity import format_quantity, parse

CONFIGMAP_KEYS = frozenset({"configmaps", "count/configmaps"})
ROOT_CA = "kube-root-ca.crt"


def within_tenant_quota(
    tenant: str,
    quota: str,
    hard: Mapping[str, str],
    in_use: Mapping[str, Fraction],
    requested: Mapping[str, Fraction],
    *,
    namespaces: int = 0,
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
    message = (
        f'exceeded tenant quota: {quota} (tenant "{tenant}", all its namespaces together), requested: '
        f"{','.join(asked)}, used: {','.join(used)}, limited: {','.join(limited)}"
    )
    if CONFIGMAP_KEYS.intersection(resource for resource, _ in (a.split("=", 1) for a in asked)):
        message += _root_ca_note(namespaces)
    return Decision.deny(message)


def _root_ca_note(namespaces: int) -> str:
    """Kubernetes publishes a `kube-root-ca.crt` ConfigMap into every namespace, and the quota counts it."""
    counted = f"{namespaces} of them, one per namespace" if namespaces else "one per namespace"
    return (
        f"; the configmaps used include the {ROOT_CA} Kubernetes puts in each of the tenant's namespaces "
        f"({counted}), counted like any other ConfigMap: ask for a configmaps limit that leaves room for them"
    )
