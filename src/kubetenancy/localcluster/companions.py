"""Processes that run next to a local cluster: the operator (`kubetenancy operator run`) and the
aggregated API server (`kubetenancy apiserver run`).

Used by `kubetenancy dev up`, the test fixtures and the benchmarks, so all three run them the same way.
"""

from __future__ import annotations

import ssl
import sys
from functools import partial
from pathlib import Path

from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.processes import Process, free_port, http_ok, spawn, wait_until

OPERATOR = "operator"
APISERVER = "apiserver"
READY_SECONDS = 60.0


def start_operator(
    cluster: Cluster,
    log_dir: Path,
    cert_dir: Path,
    *,
    bypassed_groups: str = "cluster-admins",
    webhook_port: int | None = None,
) -> tuple[Process, str]:
    """Run the operator against `cluster` until it is ready; return it and the base URL of its probes. Its
    webhooks serve only the cluster's API server (the client certificate of its admission configuration).

    Pass the same `webhook_port` to a restarted operator to keep its webhook configuration unchanged.
    """
    probe_port = free_port()
    process = spawn(
        OPERATOR,
        [
            sys.executable, "-m", "kubetenancy", "operator", "run",
            f"--kubeconfig={cluster.kubeconfig()}", f"--cert-dir={cert_dir}",
            f"--webhook-port={webhook_port or free_port()}", f"--webhook-client-ca={cluster.webhook_client_ca}",
            f"--probe-port={probe_port}",
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


def metrics_address(operator: Process) -> str:
    """`host:port` of a started operator's `/metrics` (its probe port, from its own command line)."""
    prefix = "--probe-port="
    return "127.0.0.1:" + next(arg.removeprefix(prefix) for arg in operator.argv if arg.startswith(prefix))


def _admin_context(cluster: Cluster) -> ssl.SSLContext:
    pki_dir = cluster.state_dir / "pki"
    context = ssl.create_default_context(cafile=pki_dir / "ca.crt")
    context.load_cert_chain(pki_dir / "admin.crt", pki_dir / "admin.key")
    return context


def start_apiserver(
    cluster: Cluster, log_dir: Path, cert_dir: Path, *, port: int | None = None, prometheus_url: str | None = None
) -> Process:
    """Run the aggregated API server against `cluster` until the API server serves `tenancy.kiosk.sh`
    through it (and showback's TenantCosts, read from `prometheus_url`). It needs the operator's CRDs; it
    removes its APIServices when it stops.

    Pass the same `port` to a restarted server to keep its APIServices unchanged.
    """
    argv = [
        sys.executable, "-m", "kubetenancy", "apiserver", "run",
        f"--kubeconfig={cluster.kubeconfig()}", f"--cert-dir={cert_dir}", f"--port={port or free_port()}",
        "--unregister-on-exit",
    ]  # fmt: skip
    if prometheus_url:
        argv.append(f"--prometheus-url={prometheus_url}")
    process = spawn(APISERVER, argv, log_dir / "apiserver.log")
    served = f"{cluster.server}/apis/tenancy.kiosk.sh/v1alpha1"
    try:
        wait_until(
            process, partial(http_ok, served, _admin_context(cluster)), READY_SECONDS, "serving tenancy.kiosk.sh"
        )
    except BaseException:
        process.stop()
        raise
    return process
