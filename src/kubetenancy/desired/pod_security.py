"""The Pod Security level of a tenant namespace (pure): the strictest of what the IntegrationConfig sets,
what the tenant's namespace metadata asks for, and what the namespace already carries.

Levels are ordered privileged < baseline < restricted. Taking the strictest means a tenant's
`restricted` is honoured, an admin who tightened a namespace by hand is not put back, and a change of the
cluster default never loosens a namespace: the operator only ever raises a level. Unknown values (refused
at admission for tenants) count as nothing. This module decides; it reads and writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from kubetenancy.model import Tenant

ENFORCE = "pod-security.kubernetes.io/enforce"
LEVELS = ("privileged", "baseline", "restricted")
ALWAYS_PULL_LABEL = "kubetenancy.dev/always-pull-images"
"""Set to "true" on tenant namespaces while the IntegrationConfig asks for it: the mutating webhook that
sets imagePullPolicy selects only these namespaces, so nothing else depends on it."""


def strictest(*levels: str | None) -> str:
    """The strictest known level among `levels` (privileged when none is known)."""
    known = [LEVELS.index(level) for level in levels if level in LEVELS]
    return LEVELS[max(known, default=0)]


def looser_than(asked: str, floor: str) -> bool:
    return asked in LEVELS and LEVELS.index(asked) < LEVELS.index(strictest(floor))


def with_current_levels(tenant: Tenant, labels_by_namespace: Mapping[str, Mapping[str, str]]) -> Tenant:
    """The tenant with each namespace's present level, as last seen on the cluster."""
    namespaces = tuple(
        dataclasses.replace(ns, pod_security=(labels_by_namespace.get(ns.name) or {}).get(ENFORCE))
        for ns in tenant.namespaces
    )
    return dataclasses.replace(tenant, namespaces=namespaces)
