"""Rule: namespace labels that a CAPA identity's selector reads are the platform admins' to set.

An identity with `allowedNamespaces.selector` hands its AWS account to every namespace carrying the
labels it selects, so whoever could set those labels could take the account. The protected keys are
learned from the identities themselves; the tenant labels keep their own rule (`namespace_tenancy`:
owners set their own tenant's label only), which makes selecting on them safe.
"""

from __future__ import annotations

from typing import Any

from kubetenancy.admission.decision import Decision, Request
from kubetenancy.admission.namespace_tenancy import LABELS as TENANT_LABELS
from kubetenancy.admission.view import TenancyView


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def identity_labels_are_protected(request: Request, view: TenancyView) -> Decision:
    protected = view.aws.protected_label_keys() - set(TENANT_LABELS)
    new, old = _labels(request.obj), _labels(request.old)
    changed = sorted(key for key in protected if new.get(key) != old.get(key))
    if not changed:
        return Decision.allow()
    identities = sorted(
        str(i.key) for i in view.aws.identities.values() if i.allowance.label_keys.intersection(changed)
    )
    return Decision.deny(
        f'namespaces "{request.name}" is forbidden: User "{request.user}" may not set or change the label(s) '
        f"{', '.join(changed)}: {', '.join(identities)} select namespaces by them, so they decide which "
        "namespaces may use an AWS account; only cluster administrators may change them"
    )
