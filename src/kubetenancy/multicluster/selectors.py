"""Kubernetes label-selector matching over managed clusters' labels (pure).

Semantics are Kubernetes': requirements are ANDed, an empty selector matches
every cluster (Sveltos selects all clusters with an empty clusterSelector too).
"""

from __future__ import annotations

from collections.abc import Mapping

from kubetenancy.api.sveltos import LabelSelectorRequirement, Selector


def _requirement_holds(requirement: LabelSelectorRequirement, labels: Mapping[str, str]) -> bool:
    present = requirement.key in labels
    match requirement.operator:
        case "In":
            return present and labels[requirement.key] in requirement.values
        case "NotIn":
            return not present or labels[requirement.key] not in requirement.values
        case "Exists":
            return present
        case "DoesNotExist":
            return not present
    raise AssertionError(f"unknown operator {requirement.operator}")


def matches(selector: Selector, labels: Mapping[str, str]) -> bool:
    if any(labels.get(key) != value for key, value in selector.match_labels.items()):
        return False
    return all(_requirement_holds(requirement, labels) for requirement in selector.match_expressions)
