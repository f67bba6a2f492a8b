"""ClusterProfiles of the platform admin (manifests from ConfigMaps and Secrets) and the webhook that makes
ClusterProfiles written by ServiceAccounts theirs. The tenant admin's profiles and Helm charts are in the
walkthrough (tests/e2e/test_sveltos_walkthrough.py).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import yaml

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.controlplane import ControlPlane
from tests.support.metrics import metric
from tests.support.multicluster import (
    CAPI,
    CONFIG,
    RBAC,
    change,
    delete_and_wait,
    exists,
    inline_kubeconfig,
    register_both,
    register_sveltos_cluster,
    service_account_client,
    status_of,
    wait_for_cluster_info,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

NAME_LABEL = "projectsveltos.io/serviceaccount-name"
NAMESPACE_LABEL = "projectsveltos.io/serviceaccount-namespace"


@pytest.fixture
async def managed(control_plane: ControlPlane) -> AsyncIterator[tuple[Kube, Kube]]:
    async with (
        Kube(control_plane.cluster("cluster-2").kubeconfig()) as two,
        Kube(control_plane.cluster("cluster-3").kubeconfig()) as three,
    ):
        yield two, three


def manifests_config_map(namespace: str, docs: list[dict[str, Any]]) -> dict[str, Any]:
    data = {"manifests.yaml": yaml.safe_dump_all(docs)}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "manifests", "namespace": namespace},
        "data": data,
    }


def config_map(name: str, namespace: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"v": value},
    }


def profile(name: str, selector: dict[str, str], refs: list[dict[str, str]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": CONFIG,
        "kind": "ClusterProfile",
        "metadata": {"name": name},
        "spec": {"clusterSelector": {"matchLabels": selector}, "policyRefs": refs, **spec},
    }


async def value_in(remote: Kube, name: str, namespace: str) -> str | None:
    found = await remote.get("v1", "ConfigMap", name, namespace)
    return None if found is None else found["data"]["v"]


async def test_platform_profile_rolls_out_changes_and_withdraws(
    operator: str, admin: Kube, namespace: str, control_plane: ControlPlane, managed: tuple[Kube, Kube]
) -> None:
    two, three = managed
    target = f"{namespace}-app"
    await register_both(admin, namespace, control_plane, {"profile-test": namespace})
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}},
        config_map("settings", target, "1"),
        config_map("extra", target, "x"),
    ]
    await admin.apply(manifests_config_map(namespace, docs))
    secret_docs = yaml.safe_dump(config_map("from-secret", target, "s"))
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "secret-manifests", "namespace": namespace}}
    secret |= {
        "type": "addons.projectsveltos.io/cluster-profile",
        "data": {"a.yaml": base64.b64encode(secret_docs.encode()).decode()},
    }
    await admin.apply(secret)
    refs = [{"kind": "ConfigMap", "name": "manifests"}, {"kind": "Secret", "name": "secret-manifests"}]
    await admin.apply(profile(namespace, {"profile-test": namespace}, refs))
    both = {f"SveltosCluster:{namespace}/two": "Provisioned", f"Cluster:{namespace}/three": "Provisioned"}
    status = await wait_for_cluster_info(admin, CONFIG, "ClusterProfile", namespace, both)
    for remote in (two, three):
        assert await value_in(remote, "settings", target) == "1"
        assert await value_in(remote, "from-secret", target) == "s"
        deployed = await remote.get("v1", "ConfigMap", "extra", target)
        assert deployed is not None
        assert deployed["metadata"]["labels"]["projectsveltos.io/reference-kind"] == "ConfigMap"
    assert f"ConfigMap.v1:{target}/settings" in status["clusterInfo"][0]["resources"]

    # A changed ConfigMap is rolled out: a value changes, an object dropped from it is deleted.
    await admin.apply(manifests_config_map(namespace, [config_map("settings", target, "2")]))

    async def rolled_out() -> bool:
        values = [await value_in(remote, "settings", target) for remote in (two, three)]
        gone = [not await exists(remote, "v1", "ConfigMap", "extra", target) for remote in (two, three)]
        return values == ["2", "2"] and all(gone)

    await eventually(rolled_out)

    # cluster-3 leaves the selection: what the profile deployed is withdrawn there, the namespace stays.
    await change(admin, CAPI, "Cluster", "three", lambda c: c["metadata"].update(labels={}), namespace)
    await wait_for_cluster_info(
        admin, CONFIG, "ClusterProfile", namespace, {f"SveltosCluster:{namespace}/two": "Provisioned"}
    )
    assert not await exists(three, "v1", "ConfigMap", "settings", target)
    assert not await exists(three, "v1", "ConfigMap", "from-secret", target)
    assert await exists(three, "v1", "Namespace", target)
    assert await value_in(two, "settings", target) == "2"

    await delete_and_wait(admin, CONFIG, "ClusterProfile", namespace)
    assert not await exists(two, "v1", "ConfigMap", "settings", target)


async def test_one_time_profiles_ignore_later_changes_and_can_be_left_behind(
    operator: str, admin: Kube, namespace: str, control_plane: ControlPlane, managed: tuple[Kube, Kube]
) -> None:
    two, _ = managed
    target = f"{namespace}-app"
    labels = {"profile-test": namespace}
    await register_sveltos_cluster(
        admin, namespace, "two", inline_kubeconfig(control_plane.cluster("cluster-2").kubeconfig()), labels
    )
    await admin.apply(manifests_config_map(namespace, [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}}, config_map("settings", target, "1"),
    ]))  # fmt: skip
    refs = [{"kind": "ConfigMap", "name": "manifests"}]
    await admin.apply(profile(namespace, labels, refs, syncMode="OneTime", stopMatchingBehavior="LeavePolicies"))
    await wait_for_cluster_info(
        admin, CONFIG, "ClusterProfile", namespace, {f"SveltosCluster:{namespace}/two": "Provisioned"}
    )
    assert await value_in(two, "settings", target) == "1"
    deployed = await status_of(admin, CONFIG, "ClusterProfile", namespace)
    passes = metric(operator, "kubetenancy_multicluster_passes_total", kind="ClusterProfile")
    await admin.delete("v1", "ConfigMap", "manifests", namespace)
    await admin.apply(manifests_config_map(namespace, [config_map("settings", target, "2")]))

    async def passed() -> bool:
        return metric(operator, "kubetenancy_multicluster_passes_total", kind="ClusterProfile") > passes

    await eventually(passed)
    assert await status_of(admin, CONFIG, "ClusterProfile", namespace) == deployed
    assert await value_in(two, "settings", target) == "1"
    await delete_and_wait(admin, CONFIG, "ClusterProfile", namespace)
    assert await value_in(two, "settings", target) == "1"  # LeavePolicies: left in place
    await two.delete("v1", "Namespace", target)


async def test_secrets_must_be_of_sveltos_type(
    operator: str, admin: Kube, namespace: str, control_plane: ControlPlane
) -> None:
    labels = {"profile-test": namespace}
    await register_sveltos_cluster(
        admin, namespace, "two", inline_kubeconfig(control_plane.cluster("cluster-2").kubeconfig()), labels
    )
    plain = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "plain", "namespace": namespace}}
    await admin.apply({**plain, "stringData": {"a.yaml": "kind: ConfigMap"}})
    await admin.apply(profile(namespace, labels, [{"kind": "Secret", "name": "plain", "namespace": namespace}]))
    status = await wait_for_cluster_info(
        admin, CONFIG, "ClusterProfile", namespace, {f"SveltosCluster:{namespace}/two": "Failed"}
    )
    assert status["clusterInfo"][0]["failureMessage"] == (
        f'Secret "plain" in namespace "{namespace}" has type "Opaque": '
        "give it type addons.projectsveltos.io/cluster-profile"
    )
    await delete_and_wait(admin, CONFIG, "ClusterProfile", namespace)


async def test_profiles_written_by_service_accounts_are_theirs(
    operator: str,
    admin: Kube,
    namespace: str,
    control_plane: ControlPlane,
    impersonate: Callable[..., Kube],
) -> None:
    rules = [{"apiGroups": ["config.projectsveltos.io"], "resources": ["clusterprofiles"], "verbs": ["*"]}]
    role = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": f"{namespace}-profiles"}, "rules": rules}
    await admin.apply(role)
    subjects = [
        {"kind": "ServiceAccount", "name": "tenant", "namespace": namespace},
        {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
    ]
    binding = {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": {"name": f"{namespace}-profiles"}}
    binding |= {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role["metadata"]["name"]}
    }
    await admin.apply({**binding, "subjects": subjects})
    selector = {"profile-test": namespace}
    mine, platform = f"{namespace}-mine", f"{namespace}-platform"
    async with await service_account_client(control_plane.cluster(), admin, namespace, "tenant") as tenant:
        created = await tenant.apply(profile(mine, selector, []))
        assert created["metadata"]["labels"] == {NAME_LABEL: "tenant", NAMESPACE_LABEL: namespace}

        # It can neither drop the labels, nor claim to be another admin, nor take the platform admin's profile.
        replaced = await change(
            tenant, CONFIG, "ClusterProfile", mine, lambda p: p["metadata"].update(labels={"team": "a"})
        )
        assert replaced["metadata"]["labels"] == {"team": "a", NAME_LABEL: "tenant", NAMESPACE_LABEL: namespace}
        forged = profile(f"{namespace}-forged", selector, [])
        forged["metadata"]["labels"] = {NAME_LABEL: "other", NAMESPACE_LABEL: namespace}
        with pytest.raises(ApiError, match=f"cannot deploy as tenant admin {namespace}/other"):
            await tenant.create(forged)
        await admin.apply(profile(platform, selector, []))
        with pytest.raises(ApiError, match=f"it is the platform admin's; ServiceAccount {namespace}/tenant may change"):
            await tenant.apply(profile(platform, {"profile-test": "taken"}, []))

    # Other users may not set the labels; cluster admins set them freely.
    alice = impersonate("alice")
    claimed = profile(f"{namespace}-alice", selector, [])
    claimed["metadata"]["labels"] = {NAME_LABEL: "tenant", NAMESPACE_LABEL: namespace}
    with pytest.raises(ApiError, match='User "alice" may not set or change the labels'):
        await alice.create(claimed)
    given = profile(platform, selector, [])
    given["metadata"]["labels"] = {NAME_LABEL: "tenant", NAMESPACE_LABEL: namespace}
    assert (await admin.apply(given))["metadata"]["labels"][NAME_LABEL] == "tenant"
    for name in (mine, platform):
        await delete_and_wait(admin, CONFIG, "ClusterProfile", name)
    await admin.delete(RBAC, "ClusterRoleBinding", binding["metadata"]["name"])
    await admin.delete(RBAC, "ClusterRole", role["metadata"]["name"])
