"""Local control plane: warm start of one and of three clusters, and (optionally) a cold build.

Warm start = binaries cached; timed from `ControlPlane.start` until every cluster answers /readyz and its
controller manager has created the default ServiceAccount and root CA ConfigMap.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kubetenancy.localcluster.controlplane import ControlPlane
from kubetenancy.localcluster.gobuild import Binaries, ensure_binaries


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
    }
    if cold:
        results["cold_build_s"] = [cold_build()]
    return results
