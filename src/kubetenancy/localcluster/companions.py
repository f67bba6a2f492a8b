"""Processes that run next to a local cluster: the operator, started as `kubetenancy operator run`.

Used by `kubetenancy dev up`, the test fixtures and the benchmarks, so all three run it the same way.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.processes import Process, free_port, http_ok, spawn, wait_until

OPERATOR = "operator"
READY_SECONDS = 60.0


def start_operator(
    cluster: Cluster,
    log_dir: Path,
    cert_dir: Path,
    *,
    bypassed_groups: str = "cluster-admins",
    webhook_port: int | None = None,
) -> tuple[Process, str]:
    """Run the operator against `cluster` until it is ready; return it and the base URL of its probes.

    Pass the same `webhook_port` to a restarted operator to keep its webhook configuration unchanged.
    """
    probe_port = free_port()
    process = spawn(
        OPERATOR,
        [
            sys.executable, "-m", "kubetenancy", "operator", "run",
            f"--kubeconfig={cluster.kubeconfig()}", f"--cert-dir={cert_dir}",
            f"--webhook-port={webhook_port or free_port()}", f"--probe-port={probe_port}",
            f"--bypassed-groups={bypassed_groups}",
        ],
        log_dir / "operator.log",
    )  # fmt: skip
    url = f"http://127.0.0.1:{probe_port}"
    try:
        wait_until(process, partial(http_ok, f"{url}/readyz"), READY_SECONDS, "ready")
    except BaseException:
        process.stop()
        raise
    return process, url
