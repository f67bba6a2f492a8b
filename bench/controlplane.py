"""Local control plane: warm start of one and of three clusters, of one cluster with its node, and
(optionally) a cold build.

Warm start = binaries cached; timed from `ControlPlane.start` until every cluster answers /readyz and its
controller manager has created the default ServiceAccount and root CA ConfigMap. With a node: until, in
addition, the registry holds the node images, the Node is Ready and its cluster DNS answers (what `dev up`
waits for besides the operator). The cold build is `kubetenancy dev build` (control plane, Helm, node
binaries, Debian packages already installed, node images) with empty kubetenancy and Go build caches.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kubetenancy.localcluster import images
from kubetenancy.localcluster.controlplane import ControlPlane
from kubetenancy.localcluster.gobuild import Binaries, ensure_binaries, ensure_node_binaries


def warm_start(binaries: Binaries, clusters: int, repeats: int) -> list[float]:
    seconds = []
    with tempfile.TemporaryDirectory(prefix="kubetenancy-bench-") as state:
        for _ in range(repeats):
            plane = ControlPlane(Path(state), clusters=clusters)
            began = time.monotonic()
            plane.start(binaries)
            seconds.append(time.monotonic() - began)
            plane.stop()
    return seconds


def warm_start_with_node(binaries: Binaries, repeats: int) -> list[float]:
    node_binaries = ensure_node_binaries()
    node_images = [(images.ensure(r), r.references) for r in images.NODE_IMAGES]
    seconds = []
    with tempfile.TemporaryDirectory(prefix="kubetenancy-bench-") as state:
        for _ in range(repeats):
            plane = ControlPlane(Path(state), clusters=1, nodes=1)
            began = time.monotonic()
            plane.start(binaries)
            plane.start_nodes(node_binaries, node_images)
            seconds.append(time.monotonic() - began)
            plane.stop()
    return seconds


def cold_build() -> float:
    """Build every binary with empty kubetenancy and Go build caches (module downloads stay cached)."""
    with tempfile.TemporaryDirectory(prefix="kubetenancy-cold-") as cache:
        env = {**os.environ, "KUBETENANCY_CACHE_DIR": f"{cache}/kt", "GOCACHE": f"{cache}/go-build"}
        began = time.monotonic()
        command = [sys.executable, "-m", "kubetenancy", "dev", "build"]
        subprocess.run(command, env=env, check=True, capture_output=True)
        return time.monotonic() - began


def run(*, quick: bool, cold: bool) -> dict[str, Any]:
    binaries = ensure_binaries()
    repeats = 3 if quick else 10
    results: dict[str, Any] = {
        "warm_start_1_cluster_s": warm_start(binaries, 1, repeats),
        "warm_start_3_clusters_s": warm_start(binaries, 3, repeats),
        "warm_start_1_cluster_with_node_s": warm_start_with_node(binaries, repeats),
    }
    if cold:
        results["cold_build_s"] = [cold_build()]
    return results
