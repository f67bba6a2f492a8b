"""The first hour with the CLI, as a person types it: `kubectl tenancy` reachable from the virtualenv,
acting as a user that fails loudly instead of falling back to the admin, a tenant member's view of their
tenants with their own credentials, registering a managed cluster and an empty `show admin-rbac` that says
why. Real control plane, real users, real kubectl."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubetenancy.k8s import Kube
from kubetenancy.localcluster.controlplane import Cluster, ControlPlane
from kubetenancy.localcluster.gobuild import Binaries
from tests.conftest import AggregatedServer
from tests.support.tenants import make_quota, make_tenant
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
VENV_BIN = Path(sys.executable).parent
SYSTEM_PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"
README_AS_FALCON = (
    "FALCON=$(kubetenancy dev kubeconfig --user falcon@nordmart.com) && "
    'kubectl --kubeconfig "$FALCON" auth whoami -o jsonpath="{.status.userInfo.username}"'
)


def shell(script: str, path: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PATH": path, **env}
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=environment, check=False)


@pytest.fixture
def dev_plane(tmp_path: Path, binaries: Binaries) -> Iterator[tuple[dict[str, str], Path]]:
    """`kubetenancy dev up --no-operator --no-node` in a state directory of its own, and a kubectl beside kubetenancy
    as `make run` links it."""
    env = {"KUBETENANCY_STATE_DIR": str(tmp_path / "state")}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("kubetenancy", "kubectl-tenancy"):
        (bin_dir / name).symlink_to(VENV_BIN / name)
    (bin_dir / "kubectl").symlink_to(binaries.kubectl)
    up = shell("kubetenancy dev up --no-operator --no-node", f"{bin_dir}:{SYSTEM_PATH}", **env)
    assert up.returncode == 0, up.stderr
    yield env, bin_dir
    shell("kubetenancy dev down", f"{bin_dir}:{SYSTEM_PATH}", **env)


def test_acting_as_a_user_never_falls_back_to_the_admin(dev_plane: tuple[dict[str, str], Path]) -> None:
    env, bin_dir = dev_plane
    admin = ControlPlane.load(Path(env["KUBETENANCY_STATE_DIR"]))
    assert admin is not None
    env = {**env, "KUBECONFIG": str(admin.cluster().kubeconfig())}
    # The README's form, with everything reachable: falcon's own token.
    acted = shell(README_AS_FALCON, f"{bin_dir}:{SYSTEM_PATH}", **env)
    assert (acted.returncode, acted.stdout) == (0, "falcon@nordmart.com"), acted.stderr
    # kubectl finds the plugin as `kubectl tenancy`.
    plugin = shell("kubectl tenancy version", f"{bin_dir}:{SYSTEM_PATH}", **env)
    assert plugin.returncode == 0, plugin.stderr
    # kubetenancy not on PATH: the shell says so and kubectl never runs (as the admin or anyone).
    only_kubectl = bin_dir.parent / "only-kubectl"
    only_kubectl.mkdir()
    (only_kubectl / "kubectl").symlink_to(bin_dir / "kubectl")
    missing = shell(README_AS_FALCON, f"{only_kubectl}:{SYSTEM_PATH}", **env)
    assert missing.returncode == 127
    assert "kubetenancy: command not found" in missing.stderr
    assert missing.stdout == ""
    # A user that does not exist, or a kubeconfig that went missing: exit 1, a message, kubectl not run.
    typo = shell(README_AS_FALCON.replace("falcon@", "falcom@"), f"{bin_dir}:{SYSTEM_PATH}", **env)
    assert typo.returncode == 1
    assert 'no test user "falcom@nordmart.com"' in typo.stderr
    assert typo.stdout == ""
    admin.cluster().kubeconfig("falcon@nordmart.com").unlink()
    gone = shell(README_AS_FALCON, f"{bin_dir}:{SYSTEM_PATH}", **env)
    assert gone.returncode == 1
    assert "falcon@nordmart.com.kubeconfig is missing" in gone.stderr
    assert gone.stdout == ""


def kubectl_tenancy(*args: str, kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "KUBECONFIG": str(kubeconfig), "COLUMNS": "200"}
    return subprocess.run(
        [str(VENV_BIN / "kubectl-tenancy"), *args], capture_output=True, text=True, env=environment, check=False
    )


async def test_a_member_lists_their_tenants_and_what_they_hold(
    apiserver: AggregatedServer, admin: Kube, cluster: Cluster
) -> None:
    await make_quota(admin, "cli-quota", {"pods": "4", "configmaps": "9"})
    await make_tenant(
        admin, "cli-team", "cli-quota",
        namespaces={"withTenantPrefix": ["dev", "prod"]},
        accessControl={"owners": {"users": ["alice"]}, "viewers": {"users": ["bear@nordmart.com"]}},
        storageClasses={"allowed": ["cli-fast"]},
    )  # fmt: skip
    await make_tenant(admin, "cli-empty", "cli-quota", accessControl={"owners": {"users": ["bear@nordmart.com"]}})
    await admin.apply(
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "cli-fast"},
         "provisioner": "example.com/fast"}
    )  # fmt: skip
    bear = cluster.kubeconfig("bear@nordmart.com")

    async def listed() -> bool:
        shown = kubectl_tenancy("tenant", "list", kubeconfig=bear)
        return shown.returncode == 0 and "cli-team" in shown.stdout

    await eventually(listed)
    rows = kubectl_tenancy("tenant", "list", kubeconfig=bear).stdout.splitlines()
    assert rows[0].split() == ["NAME", "KIND", "ROLE", "NAMESPACES"]
    assert ["cli-team", "Tenant", "viewer", "2"] in [row.split() for row in rows]
    assert ["cli-empty", "Tenant", "owner", "0"] in [row.split() for row in rows], "no namespaces, still listed"
    namespaces = kubectl_tenancy("tenant", "get", "namespaces", "cli-team", kubeconfig=bear)
    assert [row.split() for row in namespaces.stdout.splitlines()] == [
        ["NAME", "STATUS"], ["cli-team-dev", "Active"], ["cli-team-prod", "Active"],
    ]  # fmt: skip
    quotas = kubectl_tenancy("tenant", "get", "quotas", "cli-team", kubeconfig=bear)
    assert quotas.returncode == 0, quotas.stderr
    assert ["cli-quota", "pods", "0", "4"] in [row.split() for row in quotas.stdout.splitlines()]
    classes = kubectl_tenancy("tenant", "get", "storageclasses", "cli-team", kubeconfig=bear)
    assert [row.split() for row in classes.stdout.splitlines()] == [
        ["NAME", "PROVISIONER"],
        ["cli-fast", "example.com/fast"],
    ]
    ingress = kubectl_tenancy("tenant", "get", "ingressclasses", "cli-team", kubeconfig=bear)
    assert ingress.stdout.strip() == "tenant cli-team may use every ingressclass of the cluster (you may not list them)"
    # Someone else's tenant: one line saying so.
    other = kubectl_tenancy(
        "tenant", "get", "namespaces", "cli-team", kubeconfig=cluster.kubeconfig("test-benzema-mto")
    )
    assert other.returncode == 1
    assert other.stderr.strip() == (
        'error: tenant "cli-team" not found, or you are not one of its members (`kubectl tenancy tenant list`)'
    )


async def test_register_a_managed_cluster_and_an_empty_admin_rbac_says_why(
    operator: str, admin: Kube, control_plane: ControlPlane, namespace: str
) -> None:
    """Registered in the test's own namespace, which goes afterwards (the Sveltos walkthrough starts from no
    registered cluster)."""
    management = control_plane.cluster().kubeconfig()
    registered = kubectl_tenancy(
        "register", "cluster", "--namespace", namespace, "--cluster", "cli-production", "--labels", "env=cli,org=x",
        "--kubeconfig", str(control_plane.cluster("cluster-2").kubeconfig()), kubeconfig=management,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr

    async def ready() -> bool:
        found = await admin.get("lib.projectsveltos.io/v1beta1", "SveltosCluster", "cli-production", namespace)
        return bool(((found or {}).get("status") or {}).get("ready"))

    await eventually(ready)
    secret = await admin.get("v1", "Secret", "cli-production-sveltos-kubeconfig", namespace)
    assert secret is not None
    assert list(secret["data"]) == ["kubeconfig"]
    shown = kubectl_tenancy("show", "admin-rbac", "--namespace", namespace, kubeconfig=management)
    assert shown.returncode == 0, shown.stderr
    assert shown.stderr.strip() == (
        "No rules found: nothing is granted to any tenant admin in the 1 managed cluster(s) read: a RoleRequest "
        "grants a tenant admin its Roles in the clusters its clusterSelector matches (`kubectl get rolerequests` "
        "shows their status)"
    )
    none = kubectl_tenancy("show", "admin-rbac", "--namespace", "cli-nowhere", kubeconfig=management)
    assert none.returncode == 0
    assert "registered managed cluster(s) matches --namespace/--cluster" in none.stderr
    empty_path = kubectl_tenancy(
        "register", "cluster", "--namespace", "x", "--cluster", "y", "--kubeconfig", "", kubeconfig=management
    )
    assert empty_path.returncode == 2
    assert "Invalid value for '--kubeconfig'" in empty_path.stderr
