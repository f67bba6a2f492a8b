"""How much of each quota resource one new object uses, as Kubernetes' quota evaluators count it. Pure.

Covers object counts (`pods`, `configmaps`, `count/deployments.apps`, ...), pod compute resources
(`requests.cpu`, `cpu`, `limits.memory`, ... with init containers counted as Kubernetes does) and PVC
storage (also per storage class). Anything else counts as nothing.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from kubetenancy.quantity import parse

Usage = dict[str, Fraction]
LEGACY_COUNTS = {
    "Pod": "pods",
    "ConfigMap": "configmaps",
    "Secret": "secrets",
    "Service": "services",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "ReplicationController": "replicationcontrollers",
    "ResourceQuota": "resourcequotas",
}
COMPUTE = ("cpu", "memory", "ephemeral-storage")


def _add(usage: Usage, key: str, amount: Fraction) -> None:
    usage[key] = usage.get(key, Fraction(0)) + amount


def _pod_compute(spec: dict[str, Any], which: str) -> dict[str, Fraction]:
    """Sum over containers, but at least the largest init container (they run one at a time)."""
    total: dict[str, Fraction] = {}
    for container in spec.get("containers") or []:
        for resource, value in ((container.get("resources") or {}).get(which) or {}).items():
            total[resource] = total.get(resource, Fraction(0)) + parse(value)
    for container in spec.get("initContainers") or []:
        for resource, value in ((container.get("resources") or {}).get(which) or {}).items():
            total[resource] = max(total.get(resource, Fraction(0)), parse(value))
    return total


def usage_of(kind: str, plural: str, group: str, obj: dict[str, Any]) -> Usage:
    usage: Usage = {}
    _add(usage, f"count/{plural}" + (f".{group}" if group else ""), Fraction(1))
    if kind in LEGACY_COUNTS:
        _add(usage, LEGACY_COUNTS[kind], Fraction(1))
    spec = obj.get("spec") or {}
    if kind == "Pod":
        for resource, amount in _pod_compute(spec, "requests").items():
            _add(usage, f"requests.{resource}", amount)
            if resource in COMPUTE:
                _add(usage, resource, amount)
        for resource, amount in _pod_compute(spec, "limits").items():
            _add(usage, f"limits.{resource}", amount)
    elif kind == "PersistentVolumeClaim":
        storage = parse(((spec.get("resources") or {}).get("requests") or {}).get("storage", "0"))
        _add(usage, "requests.storage", storage)
        storage_class = spec.get("storageClassName")
        if storage_class:
            _add(usage, f"{storage_class}.storageclass.storage.k8s.io/requests.storage", storage)
            _add(usage, f"{storage_class}.storageclass.storage.k8s.io/persistentvolumeclaims", Fraction(1))
    elif kind == "Service":
        if spec.get("type") == "LoadBalancer":
            _add(usage, "services.loadbalancers", Fraction(1))
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            _add(usage, "services.nodeports", Fraction(len(spec.get("ports") or [])))
    return usage
