"""With the operator stopped, the cluster keeps working: nothing outside tenants depends on it, and
tenants without workload policies keep creating pods (their quota webhooks fail open)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.companions import start_operator
from kubetenancy.localcluster.controlplane import ControlPlane
from tests.support.tenants import make_quota, make_tenant, pod
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_stopped_operator_takes_nothing_down(control_plane: ControlPlane, tmp_path: Path) -> None:
    cluster = control_plane.clusters[1]  # its own operator, so the session's stays untouched
    process, _ = start_operator(cluster, tmp_path, tmp_path / "certs")
    async with Kube(cluster.kubeconfig()) as admin:
        try:
            await make_quota(admin, "down-q", {"pods": "5"})
            await make_tenant(admin, "down-plain", "down-q", namespaces={"withTenantPrefix": ["a"]})
            await make_tenant(
                admin,
                "down-strict",
                "down-q",
                namespaces={"withTenantPrefix": ["a"]},
                imageRegistries={"allowed": ["ghcr.io"]},
            )
        finally:
            process.stop()

        await admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "down-outside"}})
        await admin.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "kube-system"}}
        )

        async def has_account() -> bool:
            return await admin.get("v1", "ServiceAccount", "default", "down-outside") is not None

        await eventually(has_account)
        assert (await admin.create(pod("p", "down-outside")))["metadata"]["name"] == "p"
        assert (await admin.create(pod("p", "down-plain-a")))["metadata"]["name"] == "p"
        # A tenant with an image allow-list fails closed: no unchecked images while the operator is away.
        with pytest.raises(ApiError) as raised:
            await admin.create(pod("p", "down-strict-a"))
        assert 'failed calling webhook "workloads.kubetenancy.dev"' in raised.value.status.message
