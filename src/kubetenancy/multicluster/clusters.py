"""Managed clusters' kubeconfig Secrets and connection checks, whichever API registered them (pure).

A SveltosCluster and a Cluster API Cluster are both a `ManagedCluster` (made by `frontdoors.sveltos`),
with the Secret holding an admin kubeconfig for it. This module decides; it reads and writes nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import yaml

from kubetenancy.cluster_model import ManagedCluster

PREFERRED_KEYS = ("kubeconfig", "value")


class KubeconfigError(ValueError):
    """The cluster's kubeconfig Secret is missing, ambiguous or not a kubeconfig; the message says how to fix it."""


def key_of_reference(reference: Mapping[str, Any]) -> tuple[str, str, str]:
    return reference["kind"], reference["namespace"], reference["name"]


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
