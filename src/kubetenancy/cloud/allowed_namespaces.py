"""Which namespaces may use a CAPA identity: CAPA's own decision, reproduced exactly. Pure.

CAPA v2.13 `pkg/cloud/scope/session.go` `isClusterPermittedToUsePrincipal`, step by step:
1. `allowedNamespaces` absent or null: no namespace.
2. Equal to the zero value (`{}`, `{selector: {}}`, `{list: null, selector: {}}`): every namespace, even
   for cluster-scoped objects. go-cmp tells nil from empty, so `list: []` or `matchLabels: {}` are not zero.
3. The namespace is in `list`: allowed.
4. A selector with no requirements (`matchLabels: {}`, `matchExpressions: []`) matches no namespace,
   the opposite of Kubernetes' convention; else the namespace (which must exist) must match it.

CAPA's book (topics/multitenancy.md) says `selector: {}` and `list: null, selector: {}` match no
namespace: its code allows every namespace for both. kubetenancy follows the code, which is what decides,
and warns about both spellings and about `matchLabels: {}`, which looks like "all" and allows none.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubetenancy.model import LabelRequirement, NamespaceAllowance


def allows_every_namespace(allowance: NamespaceAllowance) -> bool:
    """CAPA's step 2: the zero value."""
    return (
        allowance.present
        and allowance.names is None
        and allowance.match_labels is None
        and allowance.match_expressions is None
    )


def has_selector_requirements(allowance: NamespaceAllowance) -> bool:
    return bool(allowance.match_labels) or bool(allowance.match_expressions)


def _requirement_holds(requirement: LabelRequirement, labels: Mapping[str, str]) -> bool:
    present = requirement.key in labels
    if requirement.operator == "Exists":
        return present
    if requirement.operator == "DoesNotExist":
        return not present
    inside = present and labels[requirement.key] in requirement.values
    return inside if requirement.operator == "In" else not inside


def allows(allowance: NamespaceAllowance, namespace: str, labels: Mapping[str, str] | None) -> bool:
    """Whether an object in `namespace` ("" when cluster-scoped) may use the identity; `labels` are the
    namespace's labels, None when it does not exist (CAPA lists namespaces by the selector)."""
    if not allowance.present:
        return False
    if allows_every_namespace(allowance):
        return True
    if namespace in (allowance.names or ()):
        return True
    if not has_selector_requirements(allowance) or labels is None:
        return False
    matched = all(labels.get(key) == value for key, value in (allowance.match_labels or {}).items())
    return matched and all(_requirement_holds(r, labels) for r in allowance.match_expressions or ())


def describe(allowance: NamespaceAllowance) -> str:
    """What the allowance lets in, in CAPA's terms, for tables and messages."""
    if not allowance.present:
        return "no namespace (allowedNamespaces not set)"
    if allows_every_namespace(allowance):
        return "every namespace"
    parts = []
    if allowance.names:
        parts.append("namespaces " + ", ".join(allowance.names))
    if has_selector_requirements(allowance):
        terms = [f"{k}={v}" for k, v in sorted((allowance.match_labels or {}).items())]
        for r in allowance.match_expressions or ():
            values = f" ({', '.join(r.values)})" if r.values else ""
            terms.append(f"{r.key} {r.operator}{values}")
        parts.append("namespaces labelled " + ", ".join(terms))
    return " or ".join(parts) or "no namespace (an empty list and an empty selector match none)"


def warnings(allowance: NamespaceAllowance, identity: str) -> list[str]:
    """Admission warnings for allowances that do not do what they seem to (`identity` names it)."""
    field = "spec.allowedNamespaces"
    safe = (
        f"select the tenant's namespaces instead, e.g. {field}.selector.matchLabels: {{stakater.com/tenant: <tenant>}}"
    )
    if not allowance.present:
        return [f"{field} is not set: CAPA lets no namespace use {identity}; {safe}"]
    if allows_every_namespace(allowance):
        # CAPA's defaulting webhook stores `{}` as `{list: null, selector: {}}`: one message for all spellings.
        return [
            f"{field}: {{}} (or selector: {{}}, which CAPA's book says matches none) lets every namespace use "
            f"{identity}: any tenant's cluster may act in its AWS account; {safe}"
        ]
    found = []
    if allowance.match_labels == {} and not allowance.match_expressions:
        found.append(
            f"{field}.selector.matchLabels: {{}} matches no namespace (CAPA treats an empty selector as "
            f"matching nothing){'' if allowance.names else f', so no namespace may use {identity}'}; "
            f"to allow every namespace write {field}: {{}}, or better, {safe[0].lower()}{safe[1:]}"
        )
    return found
