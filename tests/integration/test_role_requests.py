"""RoleRequests on a management cluster and two managed clusters of the local control plane.

Each test registers cluster-2 and cluster-3 under its own names and labels, so tests do not see each
other's grants; the tenant admins are ServiceAccounts of the test's namespace.
"""

from __future__ import annotations

import base64
import datetime
import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import yaml

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.controlplane import ControlPlane
from tests.support.metrics import metric
from tests.support.multicluster import (
    CAPI,
    LIB,
    RBAC,
    change,
    delete_and_wait,
    exists,
    inline_kubeconfig,
    register_both,
    register_sveltos_cluster,
    status_of,
    wait_for_cluster_info,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

WRITES = ("apply", "create", "replace", "patch", "patch-status", "delete")


@pytest.fixture
async def managed(control_plane: ControlPlane) -> AsyncIterator[tuple[Kube, Kube]]:
    """Admin clients of cluster-2 and cluster-3."""
    async with (
        Kube(control_plane.cluster("cluster-2").kubeconfig()) as two,
        Kube(control_plane.cluster("cluster-3").kubeconfig()) as three,
    ):
        yield two, three


def role_config_map(namespace: str, name: str, roles: list[dict[str, Any]]) -> dict[str, Any]:
    data = {f"role-{i}.yaml": yaml.safe_dump(role) for i, role in enumerate(roles)}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}


def cluster_role(name: str, resources: list[str], verbs: list[str]) -> dict[str, Any]:
    rules = [{"apiGroups": [""], "resources": resources, "verbs": verbs}]
    return {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules}


def role_request(namespace: str, admin: str, selector: dict[str, str], **spec: Any) -> dict[str, Any]:
    """A RoleRequest named after the test's namespace, granting what ConfigMap `roles` there holds."""
    return {
        "apiVersion": LIB,
        "kind": "RoleRequest",
        "metadata": {"name": namespace},
        "spec": {
            "serviceAccountName": admin,
            "serviceAccountNamespace": namespace,
            "clusterSelector": {"matchLabels": selector},
            "roleRefs": [{"kind": "ConfigMap", "name": "roles", "namespace": namespace}],
            **spec,
        },
    }


async def tenant_kubeconfig_secret(admin: Kube, namespace: str, tenant: str, cluster: str) -> dict[str, Any] | None:
    labels = {
        "projectsveltos.io/role-cluster": cluster,
        "projectsveltos.io/role-service-account-name": tenant,
        "projectsveltos.io/role-service-account-namespace": namespace,
    }
    found = await admin.list("v1", "Secret", namespace=namespace, labels=labels)
    return found[0] if found else None


def decoded(secret: dict[str, Any], key: str) -> str:
    return base64.b64decode(secret["data"][key]).decode()


async def test_grants_roles_and_a_working_kubeconfig_and_rolls_out_only_changes(
    operator: str, admin: Kube, namespace: str, control_plane: ControlPlane, managed: tuple[Kube, Kube]
) -> None:
    two, three = managed
    labels = {"tenancy-test": namespace}
    await register_both(admin, namespace, control_plane, labels)
    reader = f"{namespace}-reader"
    await admin.apply(role_config_map(namespace, "roles", [cluster_role(reader, ["configmaps"], ["get", "list"])]))
    await admin.apply(role_request(namespace, "alice", labels))
    status = await wait_for_cluster_info(
        admin, LIB, "RoleRequest", namespace,
        {f"SveltosCluster:{namespace}/two": "Provisioned", f"Cluster:{namespace}/three": "Provisioned"},
    )  # fmt: skip
    assert [c["name"] for c in status["matchingClusters"]] == ["three", "two"]
    assert "failureMessage" not in status

    account = f"{namespace}--alice"
    for remote in (two, three):
        assert await exists(remote, "v1", "ServiceAccount", account, "projectsveltos")
        binding = await remote.get(RBAC, "ClusterRoleBinding", reader)
        assert binding is not None
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": "projectsveltos"}]

    # The tenant admin's kubeconfig works, and gives exactly the granted rights.
    secret = await tenant_kubeconfig_secret(admin, namespace, "alice", "two")
    assert secret is not None
    assert secret["metadata"]["name"].startswith("sveltos-")
    tenant = Kube(yaml.safe_load(decoded(secret, "kubeconfig")))
    async with tenant:
        assert await tenant.list("v1", "ConfigMap", namespace="kube-system")
        with pytest.raises(ApiError, match="cannot list resource"):
            await tenant.list("v1", "Secret", namespace="kube-system")

    # A pass over an unchanged RoleRequest writes nothing, here or in the managed clusters.
    before = {verb: metric(operator, "kubetenancy_api_requests_total", verb=verb) for verb in WRITES}
    versions = [
        (await admin.get(LIB, "RoleRequest", namespace) or {})["metadata"]["resourceVersion"],
        secret["metadata"]["resourceVersion"],
        (await two.get(RBAC, "ClusterRole", reader) or {})["metadata"]["resourceVersion"],
    ]
    passes = metric(operator, "kubetenancy_multicluster_passes_total", kind="RoleRequest")
    config_map = await admin.get("v1", "ConfigMap", "roles", namespace)
    assert config_map is not None
    config_map["metadata"]["annotations"] = {"touched": "yes"}  # an event, not a change of content
    await admin.replace(config_map)

    async def passed() -> bool:
        return metric(operator, "kubetenancy_multicluster_passes_total", kind="RoleRequest") > passes

    await eventually(passed)
    assert {verb: metric(operator, "kubetenancy_api_requests_total", verb=verb) for verb in WRITES} == before
    assert versions == [
        (await admin.get(LIB, "RoleRequest", namespace) or {})["metadata"]["resourceVersion"],
        (await tenant_kubeconfig_secret(admin, namespace, "alice", "two") or {})["metadata"]["resourceVersion"],
        (await two.get(RBAC, "ClusterRole", reader) or {})["metadata"]["resourceVersion"],
    ]

    # A changed ConfigMap is rolled out to every cluster.
    await admin.apply(role_config_map(namespace, "roles", [cluster_role(reader, ["configmaps", "pods"], ["get"])]))

    async def rolled_out() -> bool:
        roles = [await remote.get(RBAC, "ClusterRole", reader) for remote in (two, three)]
        return all(r is not None and r["rules"][0]["resources"] == ["configmaps", "pods"] for r in roles)

    await eventually(rolled_out)

    # Deleting the RoleRequest takes everything back; the finalizer holds it until then.
    await delete_and_wait(admin, LIB, "RoleRequest", namespace)
    for remote in (two, three):
        assert not await exists(remote, RBAC, "ClusterRole", reader)
        assert not await exists(remote, RBAC, "ClusterRoleBinding", reader)
        assert not await exists(remote, "v1", "ServiceAccount", account, "projectsveltos")
    assert await tenant_kubeconfig_secret(admin, namespace, "alice", "two") is None


async def test_label_changes_move_clusters_in_and_out(
    operator: str, admin: Kube, namespace: str, control_plane: ControlPlane, managed: tuple[Kube, Kube]
) -> None:
    two, three = managed
    await register_both(admin, namespace, control_plane, {"tenancy-test": namespace})
    role = {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "deployer", "namespace": f"{namespace}-apps"}}
    role["rules"] = [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}]
    await admin.apply(role_config_map(namespace, "roles", [role]))
    await admin.apply(role_request(namespace, "bob", {"tenancy-test": namespace, "team": "bob"}))
    await wait_for_cluster_info(admin, LIB, "RoleRequest", namespace, {})

    # cluster-3 gains the label: the grant arrives there (and the Role's namespace is created), not in cluster-2.
    await change(admin, CAPI, "Cluster", "three", lambda c: c["metadata"]["labels"].update(team="bob"), namespace)
    await wait_for_cluster_info(admin, LIB, "RoleRequest", namespace, {f"Cluster:{namespace}/three": "Provisioned"})
    assert await exists(three, RBAC, "RoleBinding", "deployer", f"{namespace}-apps")
    assert await exists(three, "v1", "ServiceAccount", f"{namespace}--bob", "projectsveltos")
    assert not await exists(two, RBAC, "Role", "deployer", f"{namespace}-apps")

    # It loses the label: the grant, the ServiceAccount and the kubeconfig go; the namespace stays.
    await change(admin, CAPI, "Cluster", "three", lambda c: c["metadata"]["labels"].pop("team"), namespace)
    status = await wait_for_cluster_info(admin, LIB, "RoleRequest", namespace, {})
    assert status["matchingClusters"] == []
    assert not await exists(three, RBAC, "Role", "deployer", f"{namespace}-apps")
    assert not await exists(three, RBAC, "RoleBinding", "deployer", f"{namespace}-apps")
    assert not await exists(three, "v1", "ServiceAccount", f"{namespace}--bob", "projectsveltos")
    assert await exists(three, "v1", "Namespace", f"{namespace}-apps")
    assert await tenant_kubeconfig_secret(admin, namespace, "bob", "three") is None
    await delete_and_wait(admin, LIB, "RoleRequest", namespace)


async def test_tokens_are_renewed_before_they_expire(
    operator: str, admin: Kube, namespace: str, control_plane: ControlPlane
) -> None:
    labels = {"tenancy-test": namespace}
    kubeconfig = inline_kubeconfig(control_plane.cluster("cluster-2").kubeconfig())
    await register_sveltos_cluster(admin, namespace, "two", kubeconfig, labels)
    await admin.apply(role_config_map(namespace, "roles", [cluster_role(f"{namespace}-ns", ["namespaces"], ["list"])]))
    await admin.apply(role_request(namespace, "carol", labels, expirationSeconds=600))
    await wait_for_cluster_info(
        admin, LIB, "RoleRequest", namespace, {f"SveltosCluster:{namespace}/two": "Provisioned"}
    )
    secret = await tenant_kubeconfig_secret(admin, namespace, "carol", "two")
    assert secret is not None
    first_token = yaml.safe_load(decoded(secret, "kubeconfig"))["users"][0]["user"]["token"]

    # The token has aged: 30 s of its 600 are left (less than the fifth at which it is renewed).
    soon = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    secret["data"]["expirationTime"] = base64.b64encode(json.dumps(soon).encode()).decode()
    await admin.replace(secret)

    renewed: dict[str, Any] = {}

    async def replaced() -> bool:
        nonlocal renewed
        renewed = await tenant_kubeconfig_secret(admin, namespace, "carol", "two") or {}
        return bool(renewed) and decoded(renewed, "expirationTime") != json.dumps(soon)

    await eventually(replaced)
    config = yaml.safe_load(decoded(renewed, "kubeconfig"))
    assert config["users"][0]["user"]["token"] != first_token
    expiry = datetime.datetime.fromisoformat(json.loads(decoded(renewed, "expirationTime")).replace("Z", "+00:00"))
    assert expiry > datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=300)
    async with Kube(config) as tenant:
        assert await tenant.list("v1", "Namespace")
    await delete_and_wait(admin, LIB, "RoleRequest", namespace)


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port that accepts connections and never answers (a cluster whose network hangs)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


async def test_an_unreachable_cluster_fails_alone_and_says_why(
    operator: str, admin: Kube, namespace: str, control_plane: ControlPlane, managed: tuple[Kube, Kube], blackhole: int
) -> None:
    two, _ = managed
    labels = {"tenancy-test": namespace}
    kubeconfig = inline_kubeconfig(control_plane.cluster("cluster-2").kubeconfig())
    await register_sveltos_cluster(admin, namespace, "two", kubeconfig, labels)
    hanging = inline_kubeconfig(control_plane.cluster("cluster-2").kubeconfig())
    hanging["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{blackhole}"
    await register_sveltos_cluster(admin, namespace, "hanging", hanging, labels, consecutiveFailureThreshold=1)
    reader = f"{namespace}-reader"
    await admin.apply(role_config_map(namespace, "roles", [cluster_role(reader, ["configmaps"], ["get"])]))
    await admin.apply(role_request(namespace, "dave", labels))

    # The reachable cluster gets its grant while the other one hangs.
    async def granted() -> bool:
        return await exists(two, RBAC, "ClusterRoleBinding", reader)

    await eventually(granted)
    status = await wait_for_cluster_info(
        admin, LIB, "RoleRequest", namespace,
        {f"SveltosCluster:{namespace}/two": "Provisioned", f"SveltosCluster:{namespace}/hanging": "Failed"},
    )  # fmt: skip
    (failed,) = [e for e in status["clusterInfo"] if e["cluster"]["name"] == "hanging"]
    assert "did not finish within" in failed["failureMessage"]
    assert "is it reachable?" in failed["failureMessage"]
    assert f"SveltosCluster:{namespace}/hanging" in status["failureMessage"]

    async def down() -> bool:
        cluster = await admin.get(LIB, "SveltosCluster", "hanging", namespace) or {}
        return (cluster.get("status") or {}).get("connectionStatus") == "Down"

    await eventually(down, 120)
    healthy = (await admin.get(LIB, "SveltosCluster", "two", namespace) or {}).get("status") or {}
    assert healthy["ready"] is True
    assert healthy["connectionStatus"] == "Healthy"
    assert healthy["version"] == "v1.36.3"

    # The hanging cluster leaves the selection: nothing can be taken back there, so the status says so.
    await admin.delete(LIB, "SveltosCluster", "hanging", namespace)
    await wait_for_cluster_info(
        admin, LIB, "RoleRequest", namespace, {f"SveltosCluster:{namespace}/two": "Provisioned"}
    )
    await delete_and_wait(admin, LIB, "RoleRequest", namespace)


async def test_roles_that_someone_else_owns_are_never_overwritten(
    operator: str, admin: Kube, namespace: str, control_plane: ControlPlane, managed: tuple[Kube, Kube]
) -> None:
    two, _ = managed
    labels = {"tenancy-test": namespace}
    kubeconfig = inline_kubeconfig(control_plane.cluster("cluster-2").kubeconfig())
    await register_sveltos_cluster(admin, namespace, "two", kubeconfig, labels)
    view_before = await two.get(RBAC, "ClusterRole", "view")
    assert view_before is not None
    await admin.apply(role_config_map(namespace, "roles", [cluster_role("view", ["secrets"], ["*"])]))
    await admin.apply(role_request(namespace, "erin", labels))
    status = await wait_for_cluster_info(
        admin, LIB, "RoleRequest", namespace, {f"SveltosCluster:{namespace}/two": "Failed"}
    )
    assert status["clusterInfo"][0]["failureMessage"] == (
        f'ClusterRole "view" already exists in SveltosCluster:{namespace}/two and belongs to someone else, '
        f'not RoleRequest "{namespace}": give the role another name'
    )
    view_after = await two.get(RBAC, "ClusterRole", "view")
    assert view_after is not None
    assert view_after["metadata"]["resourceVersion"] == view_before["metadata"]["resourceVersion"]
    assert not await exists(two, RBAC, "ClusterRoleBinding", "view")
    await delete_and_wait(admin, LIB, "RoleRequest", namespace)


async def test_missing_or_wrong_references_change_nothing_and_say_how_to_fix(
    operator: str, admin: Kube, namespace: str, control_plane: ControlPlane
) -> None:
    labels = {"tenancy-test": namespace}
    kubeconfig = inline_kubeconfig(control_plane.cluster("cluster-2").kubeconfig())
    await register_sveltos_cluster(admin, namespace, "two", kubeconfig, labels)
    await admin.apply(role_request(namespace, "frank", labels))

    async def says(message: str) -> bool:
        return (await status_of(admin, LIB, "RoleRequest", namespace)).get("failureMessage") == message

    missing = f'ConfigMap "roles" in namespace "{namespace}" not found: create it, or fix the reference'
    await eventually(lambda: says(f"{missing}; nothing was changed in any cluster"))
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    await admin.apply(role_config_map(namespace, "roles", [pod]))
    wrong = (
        f'ConfigMap "roles" in namespace "{namespace}" holds Pod p: a RoleRequest grants only Roles and '
        "ClusterRoles; move it to a ClusterProfile"
    )
    await eventually(lambda: says(f"{wrong}; nothing was changed in any cluster"))
    await delete_and_wait(admin, LIB, "RoleRequest", namespace)
