"""The Sveltos multi-tenancy walkthrough (shared/seeds/004), replayed on a management cluster (cluster-1)
and two managed clusters: cluster-2 registered as SveltosCluster gke/production (org=foo.io,
env=internal) and cluster-3 as Cluster API Cluster default/sveltos-management-workload (org=bar.io,
env=internal).

The manifests are the ones in examples/sveltos-multitenancy/, applied as the walkthrough applies them.
`show admin-rbac` reads every registered cluster, so the walkthrough waits for other tests' registrations
to be gone first.
Two things differ from the seed, on purpose:
- the Kyverno chart comes from a chart repository served on loopback (no network here): a small chart
  named kyverno, version 2.6.0, packaged by helm in the test;
- the second `show admin-rbac` table of the seed names namespaces build, ci-cd and human-resource, which
  its own Roles do not use (its comments were written for an earlier version of the ConfigMaps): the
  table printed here names the namespaces the seed's Roles are in (foo-eng, foo-hr, bar-resource), for
  clusters with this setup's names.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.controlplane import ControlPlane
from kubetenancy.localcluster.processes import free_port
from tests.support.kubectl import Kubectl
from tests.support.multicluster import (
    CAPI,
    CONFIG,
    LIB,
    chart_repository,
    exists,
    index_charts,
    inline_kubeconfig,
    package_chart,
    register_capi_cluster,
    register_sveltos_cluster,
    service_account_client,
    wait_for_cluster_info,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).parents[2] / "examples" / "sveltos-multitenancy"
LEFT_BY_EXAMPLES = [
    (CONFIG, "ClusterProfile", "deploy-kyverno"),
    *((LIB, "RoleRequest", name) for name in ("full-access", "foo-access", "bar-access")),
]
PRODUCTION = "SveltosCluster:gke/production"
WORKLOAD = "Cluster:default/sveltos-management-workload"

SEED_FIRST_TABLE = """\
+-------------------------------+-------+-----------+------------+-----------+----------------+-------+
|            CLUSTER            | ADMIN | NAMESPACE | API GROUPS | RESOURCES | RESOURCE NAMES | VERBS |
+-------------------------------+-------+-----------+------------+-----------+----------------+-------+
| SveltosCluster:gke/production | foo   | *         | *          | *         | *              | *     |
+-------------------------------+-------+-----------+------------+-----------+----------------+-------+
"""
SHARED_ROWS = [
    [WORKLOAD, "eng", "foo-eng", "*", "*", "*", "*"],
    [WORKLOAD, "eng", "foo-hr", "*", "*", "*", "*"],
    [WORKLOAD, "hr", "bar-resource", "*", "*", "*", "*"],
    [PRODUCTION, "eng", "foo-eng", "*", "*", "*", "*"],
    [PRODUCTION, "eng", "foo-hr", "*", "*", "*", "*"],
    [PRODUCTION, "foo", "*", "*", "*", "*", "*"],
    [PRODUCTION, "hr", "bar-resource", "*", "*", "*", "*"],
]


def show_admin_rbac(kubeconfig: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "kubetenancy", "show", "admin-rbac", f"--kubeconfig={kubeconfig}"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def table_rows(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")[1:-1]] for line in table.splitlines() if line.startswith("|")]


@pytest.fixture
async def managed(control_plane: ControlPlane) -> AsyncIterator[tuple[Kube, Kube]]:
    async with (
        Kube(control_plane.cluster("cluster-2").kubeconfig()) as production,
        Kube(control_plane.cluster("cluster-3").kubeconfig()) as workload,
    ):
        yield production, workload


def kyverno_profile(repository: str, org: str) -> dict[str, Any]:
    """The walkthrough's ClusterProfile, with the chart repository of this test."""
    profile: dict[str, Any] = yaml.safe_load((EXAMPLES / "deploy-kyverno.yaml").read_text())
    profile["spec"]["helmCharts"][0]["repositoryURL"] = repository
    profile["spec"]["clusterSelector"]["matchLabels"]["org"] = org
    return profile


async def deleted(admin: Kube, api_version: str, kind: str, name: str) -> None:
    await admin.delete(api_version, kind, name)

    async def gone() -> bool:
        return not await exists(admin, api_version, kind, name)

    await eventually(gone, 120)


async def test_tenant_admins_across_clusters(
    operator: str,
    admin: Kube,
    kubectl: Kubectl,
    control_plane: ControlPlane,
    managed: tuple[Kube, Kube],
    helm: Path,
    tmp_path: Path,
) -> None:
    production, workload = managed
    management = control_plane.cluster()
    # The examples test applies the same manifests: the walkthrough starts from none of them, and from no
    # cluster registered by other tests (their namespaces are being deleted).
    for api_version, kind, name in LEFT_BY_EXAMPLES:
        if await exists(admin, api_version, kind, name):
            await deleted(admin, api_version, kind, name)

    async def no_clusters() -> bool:
        return not await admin.list(LIB, "SveltosCluster") and not await admin.list(CAPI, "Cluster")

    await eventually(no_clusters, 120)
    await register_sveltos_cluster(
        admin, "gke", "production", inline_kubeconfig(control_plane.cluster("cluster-2").kubeconfig()),
        {"org": "foo.io", "env": "internal"},
    )  # fmt: skip
    await register_capi_cluster(
        admin, "default", "sveltos-management-workload",
        inline_kubeconfig(control_plane.cluster("cluster-3").kubeconfig()), {"org": "bar.io", "env": "internal"},
    )  # fmt: skip

    # Tenant cluster reservation: foo gets full access to the clusters labelled org=foo.io.
    kubectl.ok("apply", "-f", EXAMPLES / "tenant-admins.yaml")
    kubectl.ok("apply", "-f", EXAMPLES / "full-access.yaml")
    await wait_for_cluster_info(admin, LIB, "RoleRequest", "full-access", {PRODUCTION: "Provisioned"})
    assert show_admin_rbac(management.kubeconfig()) == SEED_FIRST_TABLE

    # Shared clusters: eng and hr each get their namespaces in every env=internal cluster.
    kubectl.ok("apply", "-f", EXAMPLES / "shared-access.yaml")
    for name in ("foo-access", "bar-access"):
        await wait_for_cluster_info(
            admin, LIB, "RoleRequest", name, {PRODUCTION: "Provisioned", WORKLOAD: "Provisioned"}
        )
    table = show_admin_rbac(management.kubeconfig())
    assert table_rows(table) == [
        ["CLUSTER", "ADMIN", "NAMESPACE", "API GROUPS", "RESOURCES", "RESOURCE NAMES", "VERBS"],
        *SHARED_ROWS,
    ]
    assert table.splitlines()[0] == table.splitlines()[2] == table.splitlines()[-1]
    for remote in (production, workload):
        for namespace in ("foo-eng", "foo-hr", "bar-resource"):
            assert await exists(remote, "v1", "Namespace", namespace)

    # foo deploys Kyverno (a small chart from a local repository) to its clusters, with its own rights.
    charts = tmp_path / "charts"
    charts.mkdir()
    marker = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kyverno-marker"}, "data": {"a": "b"}}
    package_chart(helm, charts, "kyverno", "2.6.0", marker)
    port = free_port()
    repository = index_charts(helm, charts, port)
    async with chart_repository(charts, port), await service_account_client(management, admin, "default", "foo") as foo:
        await foo.apply(kyverno_profile(repository, "foo.io"))
        await wait_for_cluster_info(admin, CONFIG, "ClusterProfile", "deploy-kyverno", {PRODUCTION: "Provisioned"})
        assert await exists(production, "v1", "ConfigMap", "kyverno-marker", "kyverno")
        assert await exists(production, "v1", "Secret", "sh.helm.release.v1.kyverno-latest.v1", "kyverno")

        # The same profile aimed at org=bar.io fails there, and changes nothing there; it leaves foo.io.
        await foo.apply(kyverno_profile(repository, "bar.io"))
        status = await wait_for_cluster_info(admin, CONFIG, "ClusterProfile", "deploy-kyverno", {WORKLOAD: "Failed"})
        assert status["clusterInfo"][0]["failureMessage"] == (
            f"tenant admin default/foo has no access to {WORKLOAD}: no RoleRequest grants it this cluster, "
            "so nothing was deployed there"
        )
        assert not await exists(workload, "v1", "Namespace", "kyverno")
        assert not await exists(production, "v1", "ConfigMap", "kyverno-marker", "kyverno")  # withdrawn

        # foo cannot deploy as another tenant admin, nor take the labels off.
        forged = kyverno_profile(repository, "foo.io")
        forged["metadata"]["labels"]["projectsveltos.io/serviceaccount-name"] = "eng"
        with pytest.raises(ApiError, match="ServiceAccount default/foo cannot deploy as tenant admin default/eng"):
            await foo.apply(forged)
        await deleted(admin, CONFIG, "ClusterProfile", "deploy-kyverno")

    for name in ("full-access", "foo-access", "bar-access"):
        await deleted(admin, LIB, "RoleRequest", name)
    assert table_rows(show_admin_rbac(management.kubeconfig()))[1:] == []
    await admin.delete(LIB, "SveltosCluster", "production", "gke")
    await admin.delete(CAPI, "Cluster", "sveltos-management-workload", "default")
