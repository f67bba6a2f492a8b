"""The objects the aggregated API shows, made from what the API server stores, and the errors it answers.

A Space is a namespace seen through Kiosk's eyes; a `tenancy.kiosk.sh` Account is a `config.kiosk.sh`
Account under another group. Errors are `metav1.Status` objects with Kubernetes' own wording. Pure.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.frontdoors.kiosk import TENANCY_API_VERSION, TENANCY_GROUP

API_VERSION = TENANCY_API_VERSION
GROUP = TENANCY_GROUP
Object = dict[str, Any]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Served:
    """One resource of the aggregated API, and how it shows in `kubectl get`."""

    plural: str
    singular: str
    kind: str
    verbs: tuple[str, ...]
    columns: tuple[Column, ...]
    short_names: tuple[str, ...] = ()


NAME_COLUMN = Column("Name", "string", "Name must be unique within a namespace.")
AGE_COLUMN = Column("Age", "string", "Time since the object was created.")
SPACES = Served(
    plural="spaces",
    singular="space",
    kind="Space",
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    columns=(NAME_COLUMN, Column("Owner", "string", "The account that owns this space"), AGE_COLUMN),
)
ACCOUNTS = Served(
    plural="accounts",
    singular="account",
    kind="Account",
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    columns=(NAME_COLUMN, Column("Spaces", "integer", "The number of spaces this account owns"), AGE_COLUMN),
)


def space(namespace: Object) -> Object:
    metadata = dict(namespace.get("metadata") or {})
    spec: Object = {}
    owner = namespace_owner(metadata.get("labels") or {})
    if owner:
        spec["account"] = owner
    finalizers = (namespace.get("spec") or {}).get("finalizers")
    if finalizers:
        spec["finalizers"] = finalizers
    metadata.pop("managedFields", None)
    return {
        "apiVersion": API_VERSION,
        "kind": "Space",
        "metadata": metadata,
        "spec": spec,
        "status": {"phase": (namespace.get("status") or {}).get("phase", "Active")},
    }


def account(config_account: Object) -> Object:
    metadata = dict(config_account.get("metadata") or {})
    metadata.pop("managedFields", None)
    return {**config_account, "apiVersion": API_VERSION, "kind": "Account", "metadata": metadata}


def as_list(served: Served, items: Sequence[Object], resource_version: str) -> Object:
    return {
        "apiVersion": API_VERSION,
        "kind": f"{served.kind}List",
        "metadata": {"resourceVersion": resource_version},
        "items": list(items),
    }


def human_duration(seconds: int) -> str:
    """Kubernetes' own rendering of an age (apimachinery's HumanDuration): 90s, 5m30s, 3h12m, 4d2h, 2y."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400

    def two(big: int, unit: str, small: int, small_unit: str) -> str:
        return f"{big}{unit}{small}{small_unit}" if small else f"{big}{unit}"

    if minutes < 10:
        return two(minutes, "m", seconds % 60, "s")
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return two(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return two(days, "d", hours % 24, "h")
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        return two(days // 365, "y", days % 365, "d")
    return f"{days // 365}y"


def age(timestamp: str | None, now: datetime.datetime) -> str:
    if not timestamp:
        return "<unknown>"
    created = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return human_duration(int((now - created).total_seconds()))


def _cells(served: Served, obj: Object, now: datetime.datetime) -> list[Any]:
    created = age(obj["metadata"].get("creationTimestamp"), now)
    if served is SPACES:
        return [obj["metadata"]["name"], obj["spec"].get("account", ""), created]
    return [obj["metadata"]["name"], len((obj.get("status") or {}).get("namespaces") or []), created]


def table(
    served: Served,
    objects: Sequence[Object],
    resource_version: str,
    include: str,
    cells: Callable[[Object], list[Any]] | None = None,
) -> Object:
    """A meta.k8s.io/v1 Table, as `kubectl get` asks for; `include` is the includeObject option; `cells`
    makes a row of another API's object (default: Spaces' and Accounts' rows)."""
    now = datetime.datetime.now(datetime.UTC)
    rows = []
    for obj in objects:
        row: Object = {"cells": cells(obj) if cells else _cells(served, obj, now)}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            }
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {
                "name": c.name,
                "type": c.type,
                "format": "name" if c is NAME_COLUMN else "",
                "description": c.description,
                "priority": 0,
            }
            for c in served.columns
        ],
        "rows": rows,
    }


def status(
    code: int, reason: str, message: str, *, name: str = "", kind: str = "", group: str = TENANCY_GROUP
) -> Object:
    details: Object = {"group": group}
    if name:
        details["name"] = name
    if kind:
        details["kind"] = kind
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }


def not_found(served: Served, name: str) -> Object:
    return status(404, "NotFound", f'{served.plural}.{TENANCY_GROUP} "{name}" not found', name=name, kind=served.plural)


def forbidden(resource: str, name: str, why: str) -> Object:
    """`resource` as Kiosk names it in the message (`space` or `spaces`)."""
    return status(
        403, "Forbidden", f'{resource}.{TENANCY_GROUP} "{name}" is forbidden: {why}', name=name, kind=resource
    )


def cannot(user: str, verb: str, served: Served) -> str:
    """The RBAC authorizer's wording, which Kiosk reuses."""
    return f'User "{user}" cannot {verb} resource "{served.plural}" in API group "{TENANCY_GROUP}" at the cluster scope'


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (what `kubectl apply` and `kubectl patch --type merge` send)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in without_directives(patch).items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def without_directives(patch: Any) -> Any:
    """A strategic merge patch without its `$` directives: the objects served here have no merge keys, so
    the rest means what a JSON merge patch means."""
    if not isinstance(patch, dict):
        return patch
    return {key: without_directives(value) for key, value in patch.items() if not key.startswith("$")}
