"""Fixtures on a real local control plane: one per test session, a fresh namespace per test.

The control plane has two clusters (for the isolation tests) and the default named test users. Tests
get clients for the admin, for a token user, and for anyone through impersonation.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from kubetenancy import pki
from kubetenancy.k8s import Identity, Kube
from kubetenancy.localcluster.companions import start_operator
from kubetenancy.localcluster.controlplane import Cluster, ControlPlane, TokenWebhook
from kubetenancy.localcluster.gobuild import Binaries, ensure_binaries
from kubetenancy.localcluster.processes import free_port, port_is_listening, spawn, wait_until
from tests.support.kubectl import Kubectl
from tests.support.moto_aws import MotoAws, moto_aws


@pytest.fixture(scope="session")
def binaries() -> Binaries:
    return ensure_binaries()


@dataclass(frozen=True)
class AuthenticatorSlot:
    """Where the EKS-token authenticator will listen, decided before the API servers start."""

    port: int
    ca_file: Path
    cert_file: Path
    key_file: Path


@pytest.fixture(scope="session")
def authenticator_slot(tmp_path_factory: pytest.TempPathFactory) -> AuthenticatorSlot:
    directory = tmp_path_factory.mktemp("authenticator")
    ca = pki.new_ca("test-authenticator-ca")
    ca_file, _ = ca.write(directory, "ca")
    cert_file, key_file = pki.issue(ca, "authenticator", hosts=("127.0.0.1",), server=True).write(directory, "server")
    return AuthenticatorSlot(free_port(), ca_file, cert_file, key_file)


@pytest.fixture(scope="session")
def control_plane(
    tmp_path_factory: pytest.TempPathFactory, binaries: Binaries, authenticator_slot: AuthenticatorSlot
) -> Iterator[ControlPlane]:
    """Two clusters; the first sends unknown tokens to the EKS-token authenticator (when it runs)."""
    webhook = TokenWebhook(f"https://127.0.0.1:{authenticator_slot.port}/authenticate", authenticator_slot.ca_file)
    plane = ControlPlane(tmp_path_factory.mktemp("control-plane"), clusters=2, token_webhook=webhook)
    plane.start(binaries)
    yield plane
    plane.stop()


@pytest.fixture(scope="session")
def aws() -> Iterator[MotoAws]:
    """moto in server mode on loopback (IAM and STS)."""
    with moto_aws() as served:
        yield served


@pytest.fixture(scope="session")
def aws_authenticator(
    control_plane: ControlPlane,
    authenticator_slot: AuthenticatorSlot,
    aws: MotoAws,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """`kubetenancy aws authenticator` for the first cluster, trusting the moto STS endpoint."""
    slot = authenticator_slot
    process = spawn(
        "authenticator",
        [
            sys.executable, "-m", "kubetenancy", "aws", "authenticator",
            "--cluster", control_plane.cluster().name,
            f"--cert-file={slot.cert_file}", f"--key-file={slot.key_file}", f"--port={slot.port}",
            f"--sts-endpoint={aws.sts_endpoint}", f"--kubeconfig={control_plane.cluster().kubeconfig()}",
        ],
        tmp_path_factory.mktemp("authenticator-logs") / "authenticator.log",
    )  # fmt: skip
    try:
        wait_until(process, partial(port_is_listening, slot.port), 30, "listening")
        yield
    finally:
        process.stop()


@pytest.fixture(scope="session")
def cluster(control_plane: ControlPlane) -> Cluster:
    return control_plane.cluster()


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


@pytest.fixture(scope="session")
def operator(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The operator running against the first cluster; yields the base URL of its probes."""
    workdir = tmp_path_factory.mktemp("operator")
    process, url = start_operator(control_plane.cluster(), workdir, workdir / "certs")
    yield url
    process.stop()


@pytest.fixture(scope="session")
def kubectl(binaries: Binaries, cluster: Cluster) -> Kubectl:
    """kubectl on the first cluster, as the admin or (user=…) as a test user."""
    return Kubectl(binaries, cluster)
