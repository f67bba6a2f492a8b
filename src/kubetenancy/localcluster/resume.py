"""Bring a local plane back to running without losing anything: restart only what is not running.

Each component was recorded with its full command line (ports, paths, namespace, cgroup), so a dead one
is started again exactly as before, in the order the plane started them (etcd before the API servers,
the registry and forwarder before containerd, …), on the same data. Node networks that are gone (after
`dev down`, or a reboot) are made again with the same addresses, since those are written into the
cluster's certificates and objects. This module never discards data; starting afresh is
`ControlPlane.start`.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from functools import partial

from kubetenancy.localcluster import console_site, hostclean, keycloak, netns, prometheus
from kubetenancy.localcluster.controlplane import STARTUP_TIMEOUT, ControlPlane
from kubetenancy.localcluster.processes import Process, http_ok, wait_until

SETTLE_SECONDS = 1.0
"""A restarted component without a readiness probe must stay up this long."""


def _flag(process: Process, name: str) -> str:
    prefix = f"--{name}="
    return next(arg.removeprefix(prefix) for arg in process.argv if arg.startswith(prefix))


def _readiness(plane: ControlPlane, process: Process) -> Callable[[], bool]:
    """How to tell that a restarted component serves again."""
    context = ssl.create_default_context(cafile=plane.ca_file)
    context.load_cert_chain(plane.pki_dir / "admin.crt", plane.pki_dir / "admin.key")
    cluster_name, _, component = process.name.rpartition("/")
    if process.name == "etcd":
        return partial(http_ok, f"{_flag(process, 'listen-client-urls')}/health")
    if component == "kube-apiserver":
        return partial(http_ok, f"{plane.cluster(cluster_name).server}/readyz", context)
    if process.name == "registry":
        return partial(http_ok, f"{plane.registry_url}/v2/")
    if process.name == "operator":
        return partial(http_ok, f"http://127.0.0.1:{_flag(process, 'probe-port')}/readyz")
    if process.name == "apiserver":
        return partial(http_ok, f"{plane.cluster().server}/apis/tenancy.kiosk.sh/v1alpha1", context)
    if process.name == prometheus.PROMETHEUS:
        return prometheus.ready(process)
    if process.name == keycloak.NAME:
        return keycloak.ready(keycloak.site_of(process))
    if process.name == console_site.CONSOLE:
        return console_site.ready(process)
    settled = time.monotonic() + SETTLE_SECONDS
    return lambda: time.monotonic() > settled


def repair(plane: ControlPlane) -> list[str]:
    """Restart every component of `plane` that is not running, keeping all data; return their names."""
    for cluster, network in plane.networks.items():
        if not network.path.exists():
            remade = netns.create(network.netns, preferred=network.slot, before_first=hostclean.record_host)
            plane.networks[cluster] = remade
    for node in plane.nodes():
        node.prepare_host()
    restarted = []
    for index, process in enumerate(plane.processes):
        if process.alive():
            continue
        process.stop()  # what its group left behind (children of a killed wrapper) would hold its ports
        again = process.restarted()
        plane.processes[index] = again
        plane.save()
        wait_until(again, _readiness(plane, again), STARTUP_TIMEOUT, "serving again")
        restarted.append(again.name)
    for node in plane.nodes():
        started = [p for p in plane.processes if p.name.startswith(f"{node.cluster}/") and p.netns]
        if started:
            node.wait_ready(started)
    return restarted
