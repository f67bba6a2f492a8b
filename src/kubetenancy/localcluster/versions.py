"""Pinned upstream versions of the local control plane, and where their binaries are cached.

Kubernetes is the newest release the machine's Go toolchain (1.26) builds; etcd is the newest 3.6 patch
release, which kube-apiserver 1.36 supports with its fast consistent reads (needs >= 3.5.13). Helm installs
the charts of Sveltos ClusterProfiles.
"""

from __future__ import annotations

import os
from pathlib import Path

KUBERNETES_VERSION = "1.36.3"
ETCD_VERSION = "3.6.16"
HELM_VERSION = "3.22.0"
"""Helm 3's newest release; its go.mod asks for Go 1.26.0, which the local toolchain satisfies."""
COREDNS_VERSION = "1.15.0"
"""The cluster DNS of the local nodes (its go.mod asks for Go 1.26.0)."""
DISTRIBUTION_VERSION = "3.1.2"
"""The OCI registry (distribution v3) that serves the local nodes' images."""
PROMETHEUS_VERSION = "0.316.0"
"""Prometheus 3.16's Go module (Prometheus 3 tags its module v0.3XX.Y); showback's time-series engine."""
CAPA_VERSION = "2.13.0"
CAPI_VERSION = "1.13.4"
"""Cluster API AWS and the Cluster API core release it requires (its go.mod), run by the CAPA e2e test."""


def kubernetes_minor(version: str = KUBERNETES_VERSION) -> int:
    return int(version.split(".")[1])


def cache_dir() -> Path:
    """Root of kubetenancy's cache: `$KUBETENANCY_CACHE_DIR`, else `$XDG_CACHE_HOME/kubetenancy`."""
    explicit = os.environ.get("KUBETENANCY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kubetenancy"


def state_dir() -> Path:
    """Where `kubetenancy dev` keeps its control plane: `$KUBETENANCY_STATE_DIR`, else XDG state."""
    explicit = os.environ.get("KUBETENANCY_STATE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "kubetenancy" / "dev"
