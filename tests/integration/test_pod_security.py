"""The Pod Security level of tenant namespaces is a choice, honoured and never lowered, and tenant pods
can be made to always pull their images (real API server, its PodSecurity admission, real users).

The IntegrationConfig is cluster-wide and a raised level is never lowered again, so the tests that change
it run on a control plane and operator of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.companions import start_operator
from kubetenancy.localcluster.controlplane import ControlPlane
from kubetenancy.localcluster.gobuild import Binaries
from tests.support.tenants import TENANT_API, make_quota, make_tenant, pod
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
ENFORCE = "pod-security.kubernetes.io/enforce"
CONFIG_API = "tenantoperator.stakater.com/v1beta1"


async def level_of(admin: Kube, namespace: str) -> str:
    found = await admin.get("v1", "Namespace", namespace)
    assert found is not None
    return str(found["metadata"]["labels"].get(ENFORCE))


async def test_a_tenant_asking_for_restricted_gets_it_an_admins_tightening_stays_and_loosening_is_undone(
    operator: str, admin: Kube, user_client: Any
) -> None:
    await make_quota(admin, "psa-quota", {"pods": "5"})
    metadata = {"specific": [{"namespaces": ["psa-prod"], "labels": {ENFORCE: "restricted"}}]}
    await make_tenant(
        admin, "psa", "psa-quota",
        namespaces={"withTenantPrefix": ["dev", "prod"], "metadata": metadata},
        accessControl={"owners": {"users": ["alice"]}},
    )  # fmt: skip
    assert await level_of(admin, "psa-prod") == "restricted"
    assert await level_of(admin, "psa-dev") == "baseline"
    # Kubernetes' own PodSecurity admission now holds the tenant's pods to it.
    alice = user_client("alice")
    with pytest.raises(ApiError) as raised:
        await alice.create(pod("web", "psa-prod"))
    assert 'violates PodSecurity "restricted:latest"' in raised.value.status.message
    await alice.create(pod("web", "psa-dev"))

    # An admin tightens psa-dev by hand; the operator's next pass (the tenant changed) keeps it.
    await admin.patch("v1", "Namespace", "psa-dev", {"metadata": {"labels": {ENFORCE: "restricted"}}})
    await asyncio.sleep(1)  # the namespace event reaches the operator's view
    await make_tenant(
        admin, "psa", "psa-quota",
        namespaces={"withTenantPrefix": ["dev", "prod", "extra"], "metadata": metadata},
        accessControl={"owners": {"users": ["alice"]}},
    )  # fmt: skip

    async def extra_made() -> bool:
        return await admin.get("v1", "Namespace", "psa-extra") is not None

    await eventually(extra_made)
    assert await level_of(admin, "psa-extra") == "baseline"
    assert await level_of(admin, "psa-dev") == "restricted"

    # An admin loosens psa-prod: the namespace's own event puts the tenant's level back, no Tenant change needed.
    await admin.patch("v1", "Namespace", "psa-prod", {"metadata": {"labels": {ENFORCE: "privileged"}}})

    async def put_back() -> bool:
        return await level_of(admin, "psa-prod") == "restricted"

    await eventually(put_back)


async def test_a_tenant_asking_for_a_looser_level_is_refused(operator: str, admin: Kube) -> None:
    await make_quota(admin, "psa-quota", {"pods": "5"})
    tenant = {
        "apiVersion": TENANT_API,
        "kind": "Tenant",
        "metadata": {"name": "psa-loose"},
        "spec": {
            "quota": "psa-quota",
            "namespaces": {"withTenantPrefix": ["dev"], "metadata": {"common": {"labels": {ENFORCE: "privileged"}}}},
        },
    }
    with pytest.raises(ApiError) as raised:
        await admin.apply(tenant)
    assert raised.value.status.code == 422
    assert (
        'spec.namespaces.metadata.common.labels[pod-security.kubernetes.io/enforce]: Invalid value: "privileged": '
        'looser than the cluster\'s Pod Security level "baseline"'
    ) in raised.value.status.message


@pytest.fixture
async def own_plane(binaries: Binaries, tmp_path: Path) -> AsyncIterator[tuple[ControlPlane, Kube]]:
    """A control plane and operator of this test's own, whose IntegrationConfig it may change freely."""
    plane = ControlPlane(tmp_path / "plane")
    await asyncio.to_thread(plane.start, binaries)
    try:
        process, _ = await asyncio.to_thread(start_operator, plane.cluster(), tmp_path, tmp_path / "certs")
        try:
            async with Kube(plane.cluster().kubeconfig()) as admin:
                yield plane, admin
        finally:
            process.stop()
    finally:
        await asyncio.to_thread(plane.stop)


async def integration_config(admin: Kube, tenant_policies: dict[str, Any]) -> None:
    await admin.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multi-tenant-operator"}})
    await admin.apply(
        {
            "apiVersion": CONFIG_API,
            "kind": "IntegrationConfig",
            "metadata": {"name": "tenant-operator-config", "namespace": "multi-tenant-operator"},
            "spec": {"tenantPolicies": tenant_policies},
        }
    )


async def test_the_integration_config_sets_the_level_and_image_pulls(
    own_plane: tuple[ControlPlane, Kube],
) -> None:
    plane, admin = own_plane
    await make_quota(admin, "cfg-quota", {"pods": "5"})
    await make_tenant(admin, "cfg", "cfg-quota", namespaces={"withTenantPrefix": ["dev"]},
                      accessControl={"owners": {"users": ["bob"]}})  # fmt: skip
    assert await level_of(admin, "cfg-dev") == "baseline"
    await integration_config(admin, {"podSecurity": {"level": "restricted"}, "alwaysPullImages": True})

    async def restricted() -> bool:
        return await level_of(admin, "cfg-dev") == "restricted"

    await eventually(restricted)
    async with Kube(plane.cluster().kubeconfig("bob")) as bob:
        safe = pod("safe", "cfg-dev")
        safe["spec"]["securityContext"] = {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        safe["spec"]["containers"][0]["securityContext"] = {
            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
        }  # fmt: skip
        safe["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent"

        async def pulls_always() -> bool:
            namespace = await admin.get("v1", "Namespace", "cfg-dev")
            return (namespace or {})["metadata"]["labels"].get("kubetenancy.dev/always-pull-images") == "true"

        await eventually(pulls_always)
        created = await bob.create(safe)
    assert created["spec"]["containers"][0]["imagePullPolicy"] == "Always"

    # The cluster default goes back to baseline: namespaces keep what they had, nothing is loosened.
    await integration_config(admin, {"podSecurity": {"level": "baseline"}})

    async def pulls_as_asked() -> bool:
        namespace = await admin.get("v1", "Namespace", "cfg-dev")
        return "kubetenancy.dev/always-pull-images" not in (namespace or {})["metadata"]["labels"]

    await eventually(pulls_as_asked)
    assert await level_of(admin, "cfg-dev") == "restricted"
