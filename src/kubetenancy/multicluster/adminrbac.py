"""`show admin-rbac`: what each tenant admin may do in each managed cluster, read from the clusters.

sveltosctl derives its table from the RoleRequests' ConfigMaps in the management cluster; this reads the
bindings and roles actually deployed in every managed cluster, so what it prints is what holds there.
One row per rule: CLUSTER / ADMIN / NAMESPACE ("*" for ClusterRoles) / API GROUPS / RESOURCES /
RESOURCE NAMES ("*" when the rule names none, i.e. all) / VERBS, sorted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubetenancy.cluster_model import ManagedCluster
from kubetenancy.model import MANAGED_BY
from kubetenancy.multicluster.grants import ADMIN_NAME_LABEL, RBAC_V1, ROLE_REQUEST_LABEL
from kubetenancy.multicluster.registry import ClusterFailure, ClusterRegistry

HEADERS = ("CLUSTER", "ADMIN", "NAMESPACE", "API GROUPS", "RESOURCES", "RESOURCE NAMES", "VERBS")
Row = tuple[str, str, str, str, str, str, str]
GRANTED = {ROLE_REQUEST_LABEL: "ok", **MANAGED_BY}


def _join(values: Sequence[str] | None) -> str:
    return ",".join(values or ())


def rows(cluster: str, bindings: Sequence[Mapping[str, Any]], roles: Sequence[Mapping[str, Any]]) -> list[Row]:
    """The table rows of one cluster from its granted bindings and roles."""
    by_key = {(r["kind"], r["metadata"].get("namespace", ""), r["metadata"]["name"]): r for r in roles}
    found: list[Row] = []
    for binding in bindings:
        meta = binding["metadata"]
        admin = (meta.get("labels") or {}).get(ADMIN_NAME_LABEL)
        reference = binding.get("roleRef") or {}
        namespace = meta.get("namespace", "") if reference.get("kind") == "Role" else ""
        role = by_key.get((reference.get("kind"), namespace, reference.get("name")))
        if admin is None or role is None:
            continue
        scope = meta.get("namespace") or "*"
        for rule in role.get("rules") or []:
            found.append(
                (
                    cluster,
                    admin,
                    scope,
                    _join(rule.get("apiGroups")),
                    _join(rule.get("resources") or rule.get("nonResourceURLs")),
                    _join(rule.get("resourceNames")) or "*",
                    _join(rule.get("verbs")),
                )
            )
    return sorted(found)


async def _read(registry: ClusterRegistry, cluster: ManagedCluster) -> list[Row]:
    _, remote = await registry.connect(cluster)
    bindings, roles = [], []
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        bindings += await remote.list(RBAC_V1, kind, labels=GRANTED)
    for kind in ("Role", "ClusterRole"):
        roles += await remote.list(RBAC_V1, kind, labels=GRANTED)
    return rows(cluster.display, bindings, roles)


@dataclass(frozen=True)
class Collected:
    rows: list[Row]
    failures: dict[str, str]
    """Clusters that could not be read, and why."""
    registered: int
    """Managed clusters known to the management cluster."""
    selected: int
    """Of those, the ones the filters kept."""


async def collect(
    registry: ClusterRegistry, *, namespace: str | None = None, cluster: str | None = None, admin: str | None = None
) -> Collected:
    """Rows from every managed cluster (filtered as sveltosctl's flags do), and the clusters that failed."""
    await registry.load()
    clusters = [
        c for c in registry.all() if (namespace is None or c.namespace == namespace) and (cluster in (None, c.name))
    ]
    results = await registry.fan_out(clusters, lambda c: _read(registry, c))
    table: list[Row] = []
    failures: dict[str, str] = {}
    for managed in clusters:
        outcome = results[managed.key]
        if isinstance(outcome, ClusterFailure):
            failures[managed.display] = str(outcome)
        else:
            table += [row for row in outcome if admin in (None, row[1])]
    return Collected(sorted(table), failures, len(registry.all()), len(clusters))


def why_empty(found: Collected, *, admin: str | None) -> str:
    """Why the table has no rows, and what would fill it."""
    if found.registered == 0:
        return (
            "no managed cluster is registered with this management cluster: register one (a SveltosCluster or a "
            "Cluster API Cluster, with a Secret holding its kubeconfig), e.g. `kubectl tenancy register cluster "
            "--namespace gke --cluster production --kubeconfig PATH --labels env=internal`"
        )
    if found.selected == 0:
        return f"none of the {found.registered} registered managed cluster(s) matches --namespace/--cluster"
    if found.selected == len(found.failures):
        return "no managed cluster could be read (see above)"
    who = f'tenant admin "{admin}"' if admin else "any tenant admin"
    return (
        f"nothing is granted to {who} in the {found.selected - len(found.failures)} managed cluster(s) read: a "
        "RoleRequest grants a tenant admin its Roles in the clusters its clusterSelector matches "
        "(`kubectl get rolerequests` shows their status)"
    )
