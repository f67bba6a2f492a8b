"""Managed clusters as the engine sees them, whichever API registered them (pure).

A SveltosCluster and a Cluster API Cluster are both a `ManagedCluster`: a kind, a namespace and name in
the management cluster, labels to be selected by, a paused flag, and the Secret holding an admin
kubeconfig for it (`<name>-sveltos-kubeconfig` or `spec.kubeconfigName` for SveltosClusters,
`<name>-kubeconfig` key `value` for Cluster API). This module decides; it reads and writes nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from kubetenancy.api.sveltos import CAPI_CLUSTER_V1BETA1, SVELTOS_CLUSTER_V1BETA1

SVELTOS_KIND = SVELTOS_CLUSTER_V1BETA1.kind
CAPI_KIND = CAPI_CLUSTER_V1BETA1.kind
PREFERRED_KEYS = ("kubeconfig", "value")


class KubeconfigError(ValueError):
    """The cluster's kubeconfig Secret is missing, ambiguous or not a kubeconfig; the message says how to fix it."""


@dataclass(frozen=True)
class ManagedCluster:
    kind: str
    """SveltosCluster or Cluster."""
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    paused: bool = False
    secret_name: str = ""
    secret_key: str | None = None
    """The key of the kubeconfig in the Secret; None: its only key, else kubeconfig or value."""
    failure_threshold: int = 3

    @property
    def api_version(self) -> str:
        return SVELTOS_CLUSTER_V1BETA1.api_version if self.kind == SVELTOS_KIND else CAPI_CLUSTER_V1BETA1.api_version

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.namespace, self.name

    @property
    def display(self) -> str:
        """As sveltosctl names clusters: `SveltosCluster:gke/production`, `Cluster:default/workload`."""
        return f"{self.kind}:{self.namespace}/{self.name}"

    def reference(self) -> dict[str, str]:
        """The cluster as an ObjectReference, as Sveltos lists it in statuses."""
        return {"apiVersion": self.api_version, "kind": self.kind, "namespace": self.namespace, "name": self.name}


def key_of_reference(reference: Mapping[str, Any]) -> tuple[str, str, str]:
    return reference["kind"], reference["namespace"], reference["name"]


def from_sveltos_cluster(obj: Mapping[str, Any]) -> ManagedCluster:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    return ManagedCluster(
        kind=SVELTOS_KIND,
        namespace=meta["namespace"],
        name=meta["name"],
        labels=dict(meta.get("labels") or {}),
        paused=bool(spec.get("paused")),
        secret_name=spec.get("kubeconfigName") or f"{meta['name']}-sveltos-kubeconfig",
        secret_key=spec.get("kubeconfigKeyName") or None,
        failure_threshold=int(spec.get("consecutiveFailureThreshold") or 3),
    )


def from_capi_cluster(obj: Mapping[str, Any]) -> ManagedCluster:
    meta, spec = obj["metadata"], obj.get("spec") or {}
    return ManagedCluster(
        kind=CAPI_KIND,
        namespace=meta["namespace"],
        name=meta["name"],
        labels=dict(meta.get("labels") or {}),
        paused=bool(spec.get("paused")),
        secret_name=f"{meta['name']}-kubeconfig",
        secret_key="value",
    )


def kubeconfig_from_secret(cluster: ManagedCluster, secret: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parsed admin kubeconfig of `cluster` from its Secret (as read from the API server)."""
    where = f'Secret "{cluster.secret_name}" in namespace "{cluster.namespace}"'
    if secret is None:
        raise KubeconfigError(f"{where} not found: {cluster.display} needs its kubeconfig there")
    data: dict[str, str] = secret.get("data") or {}
    key = cluster.secret_key
    if key is None:
        preferred = [k for k in PREFERRED_KEYS if k in data]
        key = next(iter(data)) if len(data) == 1 else (preferred[0] if preferred else None)
    if key is None or key not in data:
        wanted = f'key "{key}"' if key else "a single key, or a key named kubeconfig or value"
        raise KubeconfigError(f"{where} has no {wanted}: put the kubeconfig there or set spec.kubeconfigKeyName")
    try:
        config = yaml.safe_load(base64.b64decode(data[key]))
    except (ValueError, yaml.YAMLError) as error:
        raise KubeconfigError(f"{where} key {key} is not a kubeconfig: {error}") from None
    if not isinstance(config, dict) or not config.get("clusters") or not config.get("current-context"):
        raise KubeconfigError(f"{where} key {key} is not a kubeconfig with a current context")
    return config


def probe_status(
    current: Mapping[str, Any], cluster: ManagedCluster, version: str | None, failure: str | None
) -> dict[str, Any]:
    """A SveltosCluster's next status after a connection check: Down after `failure_threshold` misses in a row."""
    if failure is None:
        return {"version": version, "ready": True, "connectionStatus": "Healthy", "connectionFailures": 0}
    failures = int(current.get("connectionFailures") or 0) + 1
    down = failures >= cluster.failure_threshold
    status = {
        "version": current.get("version"),
        "ready": False if down else current.get("ready"),
        "connectionStatus": "Down" if down else current.get("connectionStatus"),
        "connectionFailures": failures,
        "failureMessage": failure,
    }
    return {key: value for key, value in status.items() if value is not None}
