"""Registering a managed cluster with the management cluster, as Sveltos and Cluster API do (pure).

A SveltosCluster (`lib.projectsveltos.io`) with its kubeconfig in Secret `<name>-sveltos-kubeconfig`, key
`kubeconfig` (what `sveltosctl register cluster` writes), or a Cluster API `Cluster` with Secret
`<name>-kubeconfig`, key `value`. The kubeconfig must be self-contained (certificates inlined), as the
operator may run elsewhere than the file it came from. This module builds objects; it writes nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from kubetenancy.frontdoors.table import CAPI_CLUSTER, SVELTOS_CLUSTER

SVELTOS_KIND = SVELTOS_CLUSTER.served.kind
CAPI_KIND = CAPI_CLUSTER.served.kind

FILE_FIELDS = (
    ("clusters", "cluster", ("certificate-authority",)),
    ("users", "user", ("client-certificate", "client-key")),
)


def self_contained(kubeconfig: Mapping[str, Any], read: Callable[[str], bytes]) -> dict[str, Any]:
    """`kubeconfig` with every certificate or key file it names inlined as `*-data` (read by `read`)."""
    config: dict[str, Any] = yaml.safe_load(yaml.safe_dump(dict(kubeconfig)))
    for entries, inner_key, fields in FILE_FIELDS:
        for item in config.get(entries) or []:
            inner = item[inner_key]
            for field in fields:
                if field in inner:
                    inner[f"{field}-data"] = base64.b64encode(read(inner.pop(field))).decode()
    return config


def registration(
    kind: str, namespace: str, name: str, kubeconfig: Mapping[str, Any], labels: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The namespace, the kubeconfig Secret and the cluster object that register a managed cluster."""
    if kind not in (SVELTOS_KIND, CAPI_KIND):
        raise ValueError(f"a managed cluster is a {SVELTOS_KIND} or a {CAPI_KIND}, not {kind!r}")
    sveltos = kind == SVELTOS_KIND
    secret, key = (f"{name}-sveltos-kubeconfig", "kubeconfig") if sveltos else (f"{name}-kubeconfig", "value")
    encoded = base64.b64encode(yaml.safe_dump(dict(kubeconfig)).encode()).decode()
    served = (SVELTOS_CLUSTER if sveltos else CAPI_CLUSTER).served
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret, "namespace": namespace},
         "data": {key: encoded}},
        {"apiVersion": served.api_version, "kind": kind,
         "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)}, "spec": {}},
    ]  # fmt: skip
