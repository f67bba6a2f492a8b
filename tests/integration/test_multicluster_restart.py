"""A RoleRequest deleted while the operator is down loses its grants once the operator is back: the
finalizer keeps it until then, and the cleanup needs nothing the stopped operator held in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetenancy.k8s import Kube
from kubetenancy.localcluster.companions import start_operator
from kubetenancy.localcluster.controlplane import ControlPlane
from kubetenancy.localcluster.processes import free_port
from tests.support.multicluster import LIB, RBAC, exists, inline_kubeconfig, register_sveltos_cluster
from tests.support.multicluster import wait_for_cluster_info as provisioned
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_grants_are_taken_back_after_a_restart(control_plane: ControlPlane, tmp_path: Path) -> None:
    # cluster-3 is the management cluster here, with an operator of its own; cluster-2 is managed.
    management, managed = control_plane.cluster("cluster-3"), control_plane.cluster("cluster-2")
    port = free_port()
    process, _ = start_operator(management, tmp_path, tmp_path / "certs", webhook_port=port)
    name, role = "restart-grant", "restart-grant-reader"
    async with Kube(management.kubeconfig()) as admin, Kube(managed.kubeconfig()) as remote:
        try:
            await register_sveltos_cluster(admin, "fleet", "two", inline_kubeconfig(managed.kubeconfig()), {"x": "y"})
            rules = "rules: [{apiGroups: [''], resources: [configmaps], verbs: [get]}]"
            data = {"r.yaml": f"apiVersion: {RBAC}\nkind: ClusterRole\nmetadata: {{name: {role}}}\n{rules}\n"}
            await admin.apply(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": name, "namespace": "fleet"},
                    "data": data,
                }
            )
            spec = {
                "serviceAccountName": "ops",
                "serviceAccountNamespace": "fleet",
                "clusterSelector": {"matchLabels": {"x": "y"}},
                "roleRefs": [{"kind": "ConfigMap", "name": name, "namespace": "fleet"}],
            }
            await admin.apply({"apiVersion": LIB, "kind": "RoleRequest", "metadata": {"name": name}, "spec": spec})
            await provisioned(admin, LIB, "RoleRequest", name, {"SveltosCluster:fleet/two": "Provisioned"})
            assert await exists(remote, RBAC, "ClusterRoleBinding", role)
        finally:
            process.stop()

        await admin.delete(LIB, "RoleRequest", name)
        held = await admin.get(LIB, "RoleRequest", name)
        assert held is not None
        assert held["metadata"]["deletionTimestamp"]
        assert await exists(remote, RBAC, "ClusterRoleBinding", role)

        process, _ = start_operator(management, tmp_path, tmp_path / "certs", webhook_port=port)
        try:

            async def cleaned() -> bool:
                return not await exists(admin, LIB, "RoleRequest", name) and not await exists(
                    remote, RBAC, "ClusterRoleBinding", role
                )

            await eventually(cleaned)
            assert not await exists(remote, RBAC, "ClusterRole", role)
            assert not await exists(remote, "v1", "ServiceAccount", "fleet--ops", "projectsveltos")
        finally:
            await admin.delete(LIB, "SveltosCluster", "two", "fleet")
            process.stop()
