"""Rule: tenant members who may edit their namespaces (owners `kubectl apply` them) leave kubetenancy's own
labels alone — the Pod Security labels, the Kiosk account, the policy and image-pull markers. Pure.

Moving a namespace between tenants (`kubetenancy.dev/tenant`, `stakater.com/tenant`) is judged by
`namespace_tenancy`. Cluster admins and bypassed groups skip this rule (the webhook is bypassable).
"""

from __future__ import annotations

from collections.abc import Mapping

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.view import TenancyView
from kubetenancy.desired.pod_security import ALWAYS_PULL_LABEL
from kubetenancy.desired.tenant import POLICY_LABEL
from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.frontdoors.kiosk import ACCOUNT_LABEL

PREFIXES = ("pod-security.kubernetes.io/",)
LABELS = frozenset({ACCOUNT_LABEL, ALWAYS_PULL_LABEL, POLICY_LABEL})


def managed_label_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """The labels kubetenancy keeps on a tenant namespace that differ between `old` and `new`."""
    return sorted(key for key in {*new, *old} if _managed(key) and new.get(key) != old.get(key))


def _managed(key: str) -> bool:
    return key in LABELS or key.startswith(PREFIXES)


def managed_labels_unchanged(request: Request, view: TenancyView) -> Decision:
    if request.operation != "UPDATE" or request.kind != "Namespace":
        return Decision.allow()
    new = request.obj.get("metadata", {}).get("labels") or {}
    old = request.old.get("metadata", {}).get("labels") or {}
    if namespace_owner(old) is None:
        return Decision.allow()  # not a tenant's namespace: its labels are none of kubetenancy's business
    changed = managed_label_changes(old, new)
    if not changed:
        return Decision.allow()
    return Decision.deny(
        f'namespaces "{request.name}" is forbidden: User "{request.user}" may not change the label(s) '
        f"{', '.join(changed)}: kubetenancy keeps them (ask a cluster administrator)"
    )
