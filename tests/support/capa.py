"""Cluster API AWS's own CRDs (from its Go module, the pinned release) installed on a test cluster, and
the real CAPA and Cluster API core managers run as processes against it (built by `localcluster.gobuild`).

The CRDs are read from `config/crd/bases` of the module's source in Go's module cache; CAPA's kustomize
layer adds the label `cluster.x-k8s.io/v1beta1: v1beta1_v1beta2` (Cluster API resolves references by it),
which is added here the same way. Conversion webhooks are not configured (only v1beta2 is used). The
managers' own admission webhooks are registered by URL on loopback, with a CA made for the run.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from kubetenancy import pki
from kubetenancy.k8s import Kube
from kubetenancy.k8s.crds import CRD_API
from kubetenancy.localcluster.controlplane import Cluster
from kubetenancy.localcluster.gobuild import CAPA, CAPI, Target, build, module_source
from kubetenancy.localcluster.processes import Process, free_port, http_ok, spawn, wait_until
from tests.support.waiting import eventually

CAPA_NAMESPACE = "capa-system"
CONTRACT_LABEL = {"cluster.x-k8s.io/v1beta1": "v1beta1_v1beta2"}
IDENTITY_CRDS = (
    "infrastructure.cluster.x-k8s.io_awsclustercontrolleridentities.yaml",
    "infrastructure.cluster.x-k8s.io_awsclusterroleidentities.yaml",
    "infrastructure.cluster.x-k8s.io_awsclusterstaticidentities.yaml",
)
CONSUMER_CRDS = (
    "infrastructure.cluster.x-k8s.io_awsclusters.yaml",
    "controlplane.cluster.x-k8s.io_awsmanagedcontrolplanes.yaml",
)


def crds(target: Target, files: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The CRDs of `target`'s `config/crd/bases` (all, or the named files), labelled as kustomize would."""
    bases = module_source(target) / "config" / "crd" / "bases"
    paths = [bases / f for f in files] if files is not None else sorted(bases.glob("*.yaml"))
    found = []
    for path in paths:
        crd = yaml.safe_load(Path(path).read_text())
        if target is CAPA:
            crd["metadata"].setdefault("labels", {}).update(CONTRACT_LABEL)
        found.append(crd)
    return found


def capi_crds() -> list[dict[str, Any]]:
    return crds(CAPI)


async def install(admin: Kube, manifests: list[dict[str, Any]]) -> None:
    """Apply the CRDs and wait until each is Established."""
    for crd in manifests:
        await admin.apply(crd)
    for crd in manifests:

        async def established(name: str = crd["metadata"]["name"]) -> bool:
            live = await admin.get(CRD_API, "CustomResourceDefinition", name) or {}
            conditions = (live.get("status") or {}).get("conditions", [])
            return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

        await eventually(established)


# -- the real managers, as processes ------------------------------------------------------------------


@dataclass
class Managers:
    """The CAPA and Cluster API core managers running against one local cluster."""

    processes: list[Process] = field(default_factory=list)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the processes spawned inside (spawn passes its own environment on)."""
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def webhook_configurations(target: Target, prefix: str, url: str, ca_bundle: str) -> list[dict[str, Any]]:
    """The module's `config/webhook/manifests.yaml`, each webhook reached by URL instead of a Service."""
    path = module_source(target) / "config" / "webhook" / "manifests.yaml"
    configurations = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for configuration in configurations:
        configuration["metadata"]["name"] = f"{prefix}-{configuration['metadata']['name']}"
        for webhook in configuration["webhooks"]:
            service = webhook["clientConfig"].pop("service")
            webhook["clientConfig"] = {"url": f"{url}{service['path']}", "caBundle": ca_bundle}
    return configurations


def start_manager(
    name: str, binary: Path, cluster: Cluster, directory: Path, env: dict[str, str], ca: pki.KeyPair
) -> tuple[Process, int]:
    """Start a controller-runtime manager with its webhook server on loopback; wait until it is ready."""
    cert_dir = directory / f"{name}-certs"
    pki.issue(ca, name, hosts=("127.0.0.1",), server=True).write(cert_dir, "tls")
    webhook_port, health_port, diagnostics_port = free_port(), free_port(), free_port()
    with environment({"KUBECONFIG": str(cluster.kubeconfig()), **env}):
        process = spawn(
            name,
        [
            binary, "--leader-elect=false", f"--webhook-port={webhook_port}", f"--webhook-cert-dir={cert_dir}",
            f"--health-addr=127.0.0.1:{health_port}", f"--diagnostics-address=127.0.0.1:{diagnostics_port}",
            "--insecure-diagnostics", "--v=2",
        ],
            directory / f"{name}.log",
        )  # fmt: skip
    wait_until(process, partial(http_ok, f"http://127.0.0.1:{health_port}/readyz"), 120, "ready")
    return process, webhook_port


async def start_managers(admin: Kube, cluster: Cluster, directory: Path, capa_env: dict[str, str]) -> Managers:
    """CAPA (with `capa_env`: its AWS credentials and endpoint) and Cluster API core, webhooks registered."""
    ca = pki.new_ca("capa-e2e-webhooks")
    bundle = base64.b64encode(ca.cert_pem).decode()
    managers = Managers()
    await admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CAPA_NAMESPACE}})
    for name, target, binary, env in (
        ("capi", CAPI, "capi-manager", {}),
        ("capa", CAPA, "capa-manager", {"POD_NAMESPACE": CAPA_NAMESPACE, **capa_env}),
    ):
        try:
            process, port = start_manager(name, build(target) / binary, cluster, directory, env, ca)
        except BaseException:
            managers.stop()
            raise
        managers.processes.append(process)
        for configuration in webhook_configurations(target, name, f"https://127.0.0.1:{port}", bundle):
            await admin.apply(configuration)
    return managers
