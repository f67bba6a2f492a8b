"""Managed clusters, tenant admins and a Helm chart repository for the multi-cluster tenancy tests.

Clusters of the local control plane are registered with the management cluster (cluster-1) as Sveltos
and Cluster API register them: a Secret holding the cluster's admin kubeconfig (certificates inlined, as a
kubeconfig copied from elsewhere has them) next to a SveltosCluster or Cluster object.
"""

from __future__ import annotations

import subprocess
import tarfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.controlplane import Cluster, ControlPlane
from kubetenancy.multicluster.registration import registration, self_contained
from tests.support.waiting import eventually

LIB = "lib.projectsveltos.io/v1beta1"
CONFIG = "config.projectsveltos.io/v1beta1"
CAPI = "cluster.x-k8s.io/v1beta1"
RBAC = "rbac.authorization.k8s.io/v1"


def inline_kubeconfig(path: Path) -> dict[str, Any]:
    """The kubeconfig at `path` with its certificate files inlined as *-data."""
    return self_contained(yaml.safe_load(path.read_text()), lambda name: Path(name).read_bytes())


async def ensure_namespace(admin: Kube, name: str) -> None:
    await admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


async def register_sveltos_cluster(
    admin: Kube, namespace: str, name: str, kubeconfig: dict[str, Any], labels: dict[str, str], **spec: Any
) -> None:
    *objects, cluster = registration("SveltosCluster", namespace, name, kubeconfig, labels)
    for obj in [*objects, {**cluster, "spec": spec}]:
        await admin.apply(obj)


async def register_capi_cluster(
    admin: Kube, namespace: str, name: str, kubeconfig: dict[str, Any], labels: dict[str, str]
) -> None:
    for obj in registration("Cluster", namespace, name, kubeconfig, labels):
        await admin.apply(obj)


def cluster_ref(kind: str, namespace: str, name: str) -> dict[str, str]:
    return {"apiVersion": CAPI if kind == "Cluster" else LIB, "kind": kind, "namespace": namespace, "name": name}


async def status_of(admin: Kube, api_version: str, kind: str, name: str) -> dict[str, Any]:
    obj = await admin.get(api_version, kind, name)
    return (obj or {}).get("status") or {}


async def wait_for_cluster_info(
    admin: Kube, api_version: str, kind: str, name: str, expected: dict[str, str], within: float = 90
) -> dict[str, Any]:
    """Wait until status.clusterInfo has exactly `expected` (cluster display -> status); return the status."""
    status: dict[str, Any] = {}

    async def reached() -> bool:
        nonlocal status
        status = await status_of(admin, api_version, kind, name)
        found = {
            f"{e['cluster']['kind']}:{e['cluster']['namespace']}/{e['cluster']['name']}": e.get("status")
            for e in status.get("clusterInfo") or []
        }
        return found == expected

    try:
        await eventually(reached, within)
    except TimeoutError:
        raise AssertionError(f"{kind} {name}: wanted {expected}, status is {status}") from None
    return status


async def service_account_client(management: Cluster, admin: Kube, namespace: str, name: str) -> Kube:
    """A client acting as ServiceAccount namespace/name of the management cluster (its own token)."""
    await admin.apply(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}
    )
    token, _ = await admin.request_token(namespace, name, 3600)
    return Kube(management.kubeconfig(), token=token)


async def change(
    kube: Kube,
    api_version: str,
    kind: str,
    name: str,
    edit: Callable[[dict[str, Any]], None],
    namespace: str | None = None,
) -> dict[str, Any]:
    """Read, edit and write back an object, again if someone else changed it in between (409)."""
    for _ in range(10):
        obj = await kube.get(api_version, kind, name, namespace)
        assert obj is not None, f"{kind} {name} not found"
        edit(obj)
        try:
            return await kube.replace(obj)
        except ApiError as error:
            if error.status.code != 409:
                raise
    raise AssertionError(f"{kind} {name} kept changing")


async def exists(kube: Kube, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
    return await kube.get(api_version, kind, name, namespace) is not None


async def delete_and_wait(admin: Kube, api_version: str, kind: str, name: str) -> None:
    """Delete a cluster-scoped object and wait until its finalizers let it go."""
    await admin.delete(api_version, kind, name)

    async def gone() -> bool:
        return not await exists(admin, api_version, kind, name)

    await eventually(gone, 90)


async def register_both(admin: Kube, namespace: str, control_plane: ControlPlane, labels: dict[str, str]) -> None:
    """cluster-2 as SveltosCluster <ns>/two, cluster-3 as Cluster API Cluster <ns>/three."""
    for register, name, cluster in (
        (register_sveltos_cluster, "two", "cluster-2"),
        (register_capi_cluster, "three", "cluster-3"),
    ):
        await register(admin, namespace, name, inline_kubeconfig(control_plane.cluster(cluster).kubeconfig()), labels)


def package_chart(helm: Path, directory: Path, name: str, version: str, manifest: dict[str, Any]) -> Path:
    """A one-template chart, packaged by helm into `directory`."""
    source = directory / "src" / name
    (source / "templates").mkdir(parents=True, exist_ok=True)
    chart = {"apiVersion": "v2", "name": name, "version": version, "description": "a test chart"}
    (source / "Chart.yaml").write_text(yaml.safe_dump(chart))
    (source / "templates" / "object.yaml").write_text(yaml.safe_dump(manifest))
    subprocess.run([helm, "package", source, "-d", directory], check=True, capture_output=True)
    package = directory / f"{name}-{version}.tgz"
    with tarfile.open(package) as archive:
        assert f"{name}/Chart.yaml" in archive.getnames()
    return package


def index_charts(helm: Path, directory: Path, port: int) -> str:
    """index.yaml for the packages in `directory`, to be served at http://127.0.0.1:<port>/; returns that URL."""
    url = f"http://127.0.0.1:{port}/"
    subprocess.run([helm, "repo", "index", directory, "--url", url], check=True, capture_output=True)
    return url


@asynccontextmanager
async def chart_repository(directory: Path, port: int) -> AsyncIterator[str]:
    """A Helm chart repository served over HTTP on loopback from `directory` (index.yaml + packages)."""
    url = f"http://127.0.0.1:{port}/"
    app = web.Application()
    app.router.add_static("/", directory)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield url
    finally:
        await runner.cleanup()
