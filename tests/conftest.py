"""Fixtures on a real local control plane: one per test session, a fresh namespace per test.

The control plane has three clusters (the first is the management cluster of the multi-cluster tests, the
others their managed clusters) and the default named test users. The first cluster's node network is set
up with the plane, but its node (containerd, kubelet, kube-proxy, DNS, the registry) starts only for the
tests that use the `node` fixture. Tests get clients for the admin, for a
token user, and for anyone through impersonation.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kubetenancy.k8s import Identity, Kube
from kubetenancy.localcluster import hostpackages, images, keycloak, prometheus, sso_realm
from kubetenancy.localcluster.companions import start_apiserver, start_operator
from kubetenancy.localcluster.console_site import wait_until_trusted
from kubetenancy.localcluster.controlplane import Cluster, ControlPlane, TokenWebhook
from kubetenancy.localcluster.gobuild import (
    Binaries,
    NodeBinaries,
    ensure_binaries,
    ensure_helm,
    ensure_node_binaries,
    ensure_prometheus,
)
from kubetenancy.localcluster.node import Node
from kubetenancy.localcluster.processes import Process, free_port, port_is_listening, spawn, wait_until
from kubetenancy.operator.run import CORE_FAILED
from tests.support.kubectl import Kubectl
from tests.support.moto_aws import MotoAws, moto_aws


@pytest.fixture(scope="session")
def binaries() -> Binaries:
    return ensure_binaries()


@pytest.fixture(scope="session")
def helm() -> Path:
    """The pinned helm binary (built on first use), as the operator runs it."""
    return ensure_helm()


@pytest.fixture(scope="session")
def aws() -> Iterator[MotoAws]:
    """moto in server mode on loopback (IAM and STS)."""
    with moto_aws() as served:
        yield served


@dataclass(frozen=True)
class Authenticator:
    """The EKS-token authenticator of the first cluster and the webhook config pointing at it."""

    state_dir: Path
    webhook: TokenWebhook


@pytest.fixture(scope="session")
def aws_authenticator(tmp_path_factory: pytest.TempPathFactory, aws: MotoAws) -> Iterator[Authenticator]:
    """`kubetenancy aws authenticator`, started before the API servers so that it holds its port."""
    state_dir = tmp_path_factory.mktemp("control-plane")
    directory = state_dir / "authenticator"
    port = free_port()
    webhook = TokenWebhook.prepare(directory, port)
    admin_kubeconfig = Cluster("cluster-1", 0, state_dir).kubeconfig()
    process = spawn(
        "authenticator",
        [
            sys.executable, "-m", "kubetenancy", "aws", "authenticator", "--cluster", "cluster-1",
            f"--cert-file={directory / 'server.crt'}", f"--key-file={directory / 'server.key'}", f"--port={port}",
            f"--client-ca-file={webhook.ca_file}",
            f"--sts-endpoint={aws.sts_endpoint}", f"--kubeconfig={admin_kubeconfig}",
        ],
        directory / "authenticator.log",
    )  # fmt: skip
    try:
        wait_until(process, partial(port_is_listening, port), 30, "listening")
        yield Authenticator(state_dir, webhook)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def sso_site(aws_authenticator: Authenticator) -> keycloak.Site:
    """The session's Keycloak site (ports, certificates, realm): the API servers trust it from the start;
    Keycloak itself runs only once a test asks for `sso`."""
    return keycloak.prepare(aws_authenticator.state_dir / "keycloak")


@pytest.fixture(scope="session")
def control_plane(
    binaries: Binaries, aws_authenticator: Authenticator, sso_site: keycloak.Site
) -> Iterator[ControlPlane]:
    """Three clusters; the first sends tokens it does not know to the EKS-token authenticator; all trust the
    session's Keycloak as an OIDC issuer."""
    plane = ControlPlane(
        aws_authenticator.state_dir,
        clusters=3,
        nodes=1,
        token_webhook=aws_authenticator.webhook,
        authentication_config=sso_site.authentication_configuration(),
    )
    plane.start(binaries)
    yield plane
    plane.stop()


@pytest.fixture(scope="session")
def cluster(control_plane: ControlPlane) -> Cluster:
    return control_plane.cluster()


@pytest.fixture(scope="session")
def node_binaries() -> NodeBinaries:
    hostpackages.ensure()
    return ensure_node_binaries()


@pytest.fixture(scope="session")
def node(control_plane: ControlPlane, node_binaries: NodeBinaries) -> Node:
    """The first cluster's node, Ready, with cluster DNS and the project's node images in the registry."""
    control_plane.start_nodes(node_binaries, [(images.ensure(r), r.references) for r in images.NODE_IMAGES])
    return control_plane.nodes()[0]


@pytest.fixture
async def admin(cluster: Cluster) -> AsyncIterator[Kube]:
    async with Kube(cluster.kubeconfig()) as kube:
        yield kube


@pytest.fixture
async def user_client(cluster: Cluster) -> AsyncIterator[Callable[[str], Kube]]:
    """Clients that authenticate with a test user's own bearer token."""
    clients: list[Kube] = []

    def make(user: str) -> Kube:
        clients.append(Kube(cluster.kubeconfig(user)))
        return clients[-1]

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def impersonate(cluster: Cluster) -> AsyncIterator[Callable[..., Kube]]:
    """Clients that act as anyone (admin credentials + Impersonate-User/Group headers)."""
    clients: list[Kube] = []

    def make(user: str, *groups: str) -> Kube:
        clients.append(Kube(cluster.kubeconfig(), identity=Identity(user, groups)))
        return clients[-1]

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def namespace(request: pytest.FixtureRequest, admin: Kube) -> AsyncIterator[str]:
    """A fresh namespace named after the test; deleted (asynchronously) afterwards."""
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    name = f"t-{request.node.name[:40].lower().replace('_', '-').strip('-')}-{digest}"
    name = "".join(c if c.isalnum() or c == "-" else "-" for c in name)
    await admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    await admin.delete("v1", "Namespace", name)


SESSION_OPERATOR = pytest.StashKey[Process]()


@pytest.fixture(scope="session")
def operator(
    control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory, helm: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """The operator running against the first cluster (with the pinned helm); yields the base URL of its probes."""
    workdir = tmp_path_factory.mktemp("operator")
    process, url = start_operator(control_plane.cluster(), workdir, workdir / "certs")
    request.config.stash[SESSION_OPERATOR] = process
    yield url
    process.stop()


@pytest.fixture(autouse=True)
def _session_operator_outlives_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test during which the session's operator exited, with the end of its log: every later test
    would otherwise fail only with the API server's "connection refused" from its webhooks. Warn, with the
    log, when its core failed and restarted during the test (the test may have seen refused webhooks)."""
    process = request.config.stash.get(SESSION_OPERATOR, None)
    logged = Path(process.log).stat().st_size if process is not None else 0
    yield
    process = request.config.stash.get(SESSION_OPERATOR, None)
    if process is None:
        return
    if not process.alive():
        del request.config.stash[SESSION_OPERATOR]
        pytest.fail(f"the session's operator exited during this test; its log ends:\n{process.log_tail(60)}")
    with Path(process.log).open(errors="replace") as log:
        log.seek(logged)
        written = log.read()
    if CORE_FAILED in written:
        warnings.warn(f"the session's operator restarted its core during this test:\n{written[-6000:]}", stacklevel=1)


@dataclass
class AggregatedServer:
    """The aggregated API server of the first cluster (tenancy.kiosk.sh), restartable on its port."""

    cluster: Cluster
    workdir: Path
    port: int
    process: Process

    def stop(self) -> None:
        self.process.stop()

    def start(self, prometheus_url: str | None = None) -> None:
        """Start it again on the same port (its APIServices are the same), reading showback's figures from
        `prometheus_url` if given."""
        self.process = start_apiserver(
            self.cluster, self.workdir, self.workdir / "certs", port=self.port, prometheus_url=prometheus_url
        )


@pytest.fixture(scope="session")
def apiserver(operator: str, cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AggregatedServer]:
    """Spaces and Accounts served for the first cluster (needs the operator's CRDs)."""
    workdir = tmp_path_factory.mktemp("apiserver")
    port = free_port()
    server = AggregatedServer(cluster, workdir, port, start_apiserver(cluster, workdir, workdir / "certs", port=port))
    yield server
    server.process.stop()


@pytest.fixture(scope="session")
def kubectl(binaries: Binaries, cluster: Cluster) -> Kubectl:
    """kubectl on the first cluster, as the admin or (user=…) as a test user."""
    return Kubectl(binaries, cluster)


def apply_as_admin(binaries: Binaries, cluster: Cluster, objects: list[dict[str, Any]]) -> None:
    subprocess.run(
        [binaries.kubectl, f"--kubeconfig={cluster.kubeconfig()}", "apply", "-f", "-"],
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}).encode(),
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def prometheus_url(
    control_plane: ControlPlane, node: Node, operator: str, binaries: Binaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Prometheus (built on first use) scraping the first cluster's node and the session's operator, as
    `dev up` runs it; yields its base URL."""
    workdir = tmp_path_factory.mktemp("prometheus")
    apply_as_admin(binaries, control_plane.cluster(), prometheus.rbac())
    targets = prometheus.Targets(((node.name, node.network.node_ip),), (operator.removeprefix("http://"),))
    process = prometheus.start(ensure_prometheus(), workdir, control_plane.pki_dir, targets, workdir / "prometheus.log")
    yield prometheus.url(process)
    process.stop()


@pytest.fixture(scope="session")
def sso(sso_site: keycloak.Site, control_plane: ControlPlane, binaries: Binaries) -> Iterator[keycloak.Site]:
    """Keycloak running for the session's site (fetched and built on first use), its cluster-admins group
    bound to cluster-admin in the first cluster."""
    process = keycloak.start(sso_site, Path(sso_site.directory) / "keycloak.log")
    try:
        keycloak.wait_ready(sso_site, process)
        wait_until_trusted(control_plane.cluster(), sso_site)
        apply_as_admin(binaries, control_plane.cluster(), [sso_realm.admin_binding()])
        yield sso_site
    finally:
        process.stop()


@pytest.fixture(scope="session")
def showback_api(apiserver: AggregatedServer, prometheus_url: str) -> str:
    """The session's aggregated API server restarted to serve TenantCosts from the session's Prometheus (it
    keeps serving Spaces and Accounts as before); yields that Prometheus' URL."""
    apiserver.stop()
    apiserver.start(prometheus_url)
    return prometheus_url
