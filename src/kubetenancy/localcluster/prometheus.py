"""Prometheus next to a local plane: showback's time series, scraped from the nodes' kubelets and from
kubetenancy's own `/metrics`.

Used by `kubetenancy dev up` and the test fixtures, so both run it the same way. Prometheus listens on
127.0.0.1 only and sends traffic only to loopback (the operator) and to the nodes' IPs, which live in
network namespaces the plane created (the host reaches them through each node's veth pair). It reads the
kubelets with a client certificate of its own, `kubetenancy:prometheus`, which may only read their
metrics (`nodes/metrics`, through the kubelets' webhook authorization): `rbac()` are the objects that
grant it, applied by whoever starts Prometheus. This module writes files and runs the process; it
creates no Kubernetes objects.

**Scrape interval: 15 s.** The kubelet refreshes container statistics every 10 s (cAdvisor's housekeeping),
so a shorter interval mostly re-reads the same values; 15 s gives four samples a minute, so the 1-minute
rates of CPU usage the cost queries take have enough points, and a pod that lives a minute is seen.
At 15 s one series costs about 5 760 samples a day (1 to 2 bytes each once compressed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from kubetenancy import pki
from kubetenancy.localcluster.nodeconfig import KUBELET_PORT
from kubetenancy.localcluster.processes import Process, free_port, http_ok, spawn, wait_until

PROMETHEUS = "prometheus"
IDENTITY = "kubetenancy:prometheus"
SCRAPE_INTERVAL = "15s"
RETENTION = "8d"
"""At least the 7-day window showback shows, plus a day so the window's start is never cut off."""
READY_SECONDS = 60.0
KUBELET_JOBS = {"kubelet": "/metrics/resource", "cadvisor": "/metrics/cadvisor"}
"""Job name → kubelet path. The cost queries read usage from `kubelet` (the kubelet's own resource metrics,
one series per container); `cadvisor` adds the machine's capacity and the detail (throttling, I/O)."""
KUBETENANCY_JOB = "kubetenancy"


@dataclass(frozen=True)
class Targets:
    """What to scrape: each node's name and IP, and the `host:port` of each kubetenancy `/metrics`."""

    nodes: tuple[tuple[str, str], ...] = ()
    kubetenancy: tuple[str, ...] = ()


def config(targets: Targets, pki_dir: Path) -> dict[str, Any]:
    """The Prometheus configuration (JSON is YAML, which Prometheus reads)."""
    tls = {
        "ca_file": str(pki_dir / "ca.crt"),
        "cert_file": str(pki_dir / "prometheus.crt"),
        "key_file": str(pki_dir / "prometheus.key"),
    }
    kubelets = [{"targets": [f"{ip}:{KUBELET_PORT}"], "labels": {"node": name}} for name, ip in targets.nodes]
    jobs: list[dict[str, Any]] = [
        {"job_name": job, "scheme": "https", "metrics_path": path, "tls_config": tls, "static_configs": kubelets}
        for job, path in KUBELET_JOBS.items()
        if kubelets
    ]
    if targets.kubetenancy:
        jobs.append({"job_name": KUBETENANCY_JOB, "static_configs": [{"targets": list(targets.kubetenancy)}]})
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": "10s"},
        "scrape_configs": jobs,
    }


def rbac() -> list[dict[str, Any]]:
    """Prometheus' identity may read the kubelets' metrics, and nothing else."""
    meta = {"name": IDENTITY, "labels": {"app.kubernetes.io/managed-by": "kubetenancy"}}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": meta,
            "rules": [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": IDENTITY},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": IDENTITY}],
        },
    ]


def start(
    binary: Path, state_dir: Path, pki_dir: Path, targets: Targets, log: Path, *, port: int | None = None
) -> Process:
    """Write the configuration and Prometheus' client certificate, start it with its data in
    `state_dir/data`, and wait until it is ready; `url(process)` is where it answers."""
    pki.issue(pki.KeyPair.read(pki_dir, "ca"), IDENTITY, client=True).write(pki_dir, "prometheus")
    config_file = state_dir / "prometheus.yml"
    state_dir.mkdir(parents=True, exist_ok=True)
    config_file.write_text(json.dumps(config(targets, pki_dir), indent=2))
    process = spawn(
        PROMETHEUS,
        [
            binary, f"--config.file={config_file}", f"--storage.tsdb.path={state_dir / 'data'}",
            f"--storage.tsdb.retention.time={RETENTION}", f"--web.listen-address=127.0.0.1:{port or free_port()}",
        ],
        log,
    )  # fmt: skip
    try:
        wait_until(process, ready(process), READY_SECONDS, "ready")
    except BaseException:
        process.stop()
        raise
    return process


def url(process: Process) -> str:
    """The base URL of a started Prometheus (from its own command line, so a restarted one has it too)."""
    prefix = "--web.listen-address="
    return "http://" + next(arg.removeprefix(prefix) for arg in process.argv if arg.startswith(prefix))


def ready(process: Process) -> partial[bool]:
    return partial(http_ok, f"{url(process)}/-/ready")
