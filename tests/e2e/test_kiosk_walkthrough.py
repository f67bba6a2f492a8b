"""The Kiosk-on-EKS walkthrough (shared/seeds/002), replayed with kubectl as written.

The cluster admin runs every command; `--as=dev` and `--as=dba` impersonate the account users, as in
the seed. The manifests are the ones in examples/kiosk-on-eks; the two accounts are first applied in
the seed's first form (no space limit, no template), then in their final form from examples/.
No kubelet runs here, so pods stay Pending: the seed's last step (pinging one pod from the other) is
not replayed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubetenancy.localcluster.node import Node
from tests.conftest import AggregatedServer
from tests.support.kubectl import Kubectl

pytestmark = pytest.mark.e2e

WALKTHROUGH = Path(__file__).parents[2] / "examples" / "kiosk-on-eks"
PLATFORM, TENANTS = WALKTHROUGH / "platform", WALKTHROUGH / "tenants"
FIRST_ACCOUNT = """
apiVersion: tenancy.kiosk.sh/v1alpha1
kind: Account
metadata:
  name: {name}
spec:
  subjects:
  - kind: User
    name: {user}
    apiGroup: rbac.authorization.k8s.io
"""
THIRD_SPACE = """
apiVersion: tenancy.kiosk.sh/v1alpha1
kind: Space
metadata:
  name: {name}
spec:
  account: node-account
"""


def eventually_ok(kubectl: Kubectl, *args: str, contains: str, within: float = 60) -> str:
    deadline = time.monotonic() + within
    while True:
        code, output = kubectl(*args)
        if code == 0 and contains in output:
            return output
        assert time.monotonic() < deadline, output
        time.sleep(0.5)


def apply(kubectl: Kubectl, manifest: str, *args: str) -> tuple[int, str]:
    return kubectl("apply", "-f", "-", *args, stdin=manifest)


@pytest.fixture
def platform_removed_after(kubectl: Kubectl) -> Iterator[None]:
    """The walkthrough's workloads (their CPU requests would fill the node's two cores), accounts, quota,
    template and binding go afterwards (its namespaces stay)."""
    yield
    for deployment, namespace in (("nodejs", "node-space"), ("redis", "redis-space")):
        kubectl.ok("delete", "deployment", deployment, "-n", namespace, "--ignore-not-found", "--cascade=foreground")
    kubectl.ok("delete", "-f", PLATFORM, "--ignore-not-found", "--wait")


@pytest.mark.usefixtures("platform_removed_after")
def test_kiosk_walkthrough(apiserver: AggregatedServer, node: Node, kubectl: Kubectl) -> None:
    # Create a Kiosk account for each tenant.
    assert apply(kubectl, FIRST_ACCOUNT.format(name="node-account", user="dev")) == (
        0, "account.tenancy.kiosk.sh/node-account created",
    )  # fmt: skip
    assert apply(kubectl, FIRST_ACCOUNT.format(name="redis-account", user="dba"))[0] == 0
    accounts = kubectl.ok("get", "accounts")
    assert accounts.splitlines()[0].split() == ["NAME", "SPACES", "AGE"]
    assert "node-account" in accounts
    assert "redis-account" in accounts
    as_dev = kubectl.ok("get", "accounts", "--as=dev")
    assert "node-account" in as_dev
    assert "redis-account" not in as_dev

    # Create a Kiosk space for each account.
    kubectl.ok("apply", "-f", PLATFORM / "cluster-role-binding.yml")
    assert kubectl("apply", "-f", TENANTS / "node-space.yml", "--as=dev") == (
        0, "space.tenancy.kiosk.sh/node-space created",
    )  # fmt: skip
    assert kubectl("apply", "-f", TENANTS / "redis-space.yml", "--as=dev") == (
        1,
        f'Error from server (Forbidden): error when creating "{TENANTS / "redis-space.yml"}": space.tenancy.kiosk.sh '
        '"redis-space" is forbidden: User "dev" cannot create resource "spaces" in API group "tenancy.kiosk.sh" at '
        "the cluster scope",
    )
    assert kubectl("apply", "-f", TENANTS / "redis-space.yml", "--as=dba") == (
        0, "space.tenancy.kiosk.sh/redis-space created",
    )  # fmt: skip
    spaces = kubectl.ok("get", "spaces")
    assert spaces.splitlines()[0].split() == ["NAME", "OWNER", "AGE"]
    assert "node-space" in spaces
    assert "redis-space" in spaces
    dev_spaces = kubectl.ok("get", "spaces", "--as=dev").splitlines()
    assert [line.split()[:2] for line in dev_spaces[1:]] == [["node-space", "node-account"]]
    assert kubectl.ok("get", "pods", "-n", "redis-space") == "No resources found in redis-space namespace."

    # Limit the number of spaces per account.
    assert kubectl("apply", "-f", PLATFORM / "node-account.yml") == (
        0, "account.tenancy.kiosk.sh/node-account configured",
    )  # fmt: skip
    assert apply(kubectl, THIRD_SPACE.format(name="node-space-2"), "--as=dev")[0] == 0
    code, refused = apply(kubectl, THIRD_SPACE.format(name="node-space-3"), "--as=dev")
    assert code == 1
    assert refused.startswith("Error from server (Forbidden): ")
    assert refused.endswith(": space limit of 2 reached for account node-account")

    # Apply account quotas to existing accounts: only the cluster admin may.
    assert kubectl("apply", "-f", PLATFORM / "node-quota.yml") == (
        0, "accountquota.config.kiosk.sh/default-user-limits created",
    )  # fmt: skip
    code, as_dev_quota = kubectl("apply", "-f", PLATFORM / "node-quota.yml", "--as=dev")
    assert code == 1
    assert (
        'User "dev" cannot get resource "accountquotas" in API group "config.kiosk.sh" at the cluster scope'
        in as_dev_quota
    )
    assert "default-user-limits" in kubectl.ok("get", "accountquotas")

    # Create templates for spaces; make the template mandatory for redis-account.
    kubectl.ok("apply", "-f", PLATFORM / "template-definition.yml")
    kubectl.ok("apply", "-f", PLATFORM / "redis-account.yml")
    assert kubectl("apply", "-f", TENANTS / "redis-mandatory-space.yml") == (
        0, "space.tenancy.kiosk.sh/redis-mandatory-space created",
    )  # fmt: skip
    # The Space is answered only once its template is deployed: no waiting needed here.
    assert "container-limit-range" in kubectl.ok("get", "limitrange", "-n", "redis-mandatory-space")
    instances = kubectl.ok("get", "templateinstances", "-n", "redis-mandatory-space")
    assert "space-template" in instances
    kubectl.ok("wait", "--for=create", "serviceaccount/default", "-n", "redis-mandatory-space", "--timeout=60s")
    assert kubectl("run", "nginx", "--image", "nginx", "-n", "redis-mandatory-space", "--restart=Never") == (
        0, "pod/nginx created",
    )  # fmt: skip
    assert kubectl.running("nginx", "redis-mandatory-space") == "Running"
    described = kubectl.ok("describe", "pod", "nginx", "-n", "redis-mandatory-space")
    limits = described.split("Limits:", 1)[1].split("Requests:", 1)
    assert limits[0].split() == ["cpu:", "1"]
    assert limits[1].split()[:2] == ["cpu:", "500m"]
    kubectl.ok("delete", "pod", "nginx", "-n", "redis-mandatory-space")

    # Deploy applications in the two accounts.
    kubectl.ok("wait", "--for=create", "serviceaccount/default", "-n", "node-space", "--timeout=60s")
    kubectl.ok("wait", "--for=create", "serviceaccount/default", "-n", "redis-space", "--timeout=60s")
    assert kubectl("apply", "-f", TENANTS / "node-deployment.yml", "-n", "node-space", "--as=dev") == (
        0, "deployment.apps/nodejs created",
    )  # fmt: skip
    assert kubectl("create", "deploy", "redis", "--image", "redis", "-n", "redis-space", "--as=dba") == (
        0, "deployment.apps/redis created",
    )  # fmt: skip

    # Verify account isolation.
    everything = eventually_ok(kubectl, "get", "all", "-n", "node-space", "--as=dev", contains="pod/nodejs-")
    assert "deployment.apps/nodejs" in everything
    assert "replicaset.apps/nodejs-" in everything
    code, errors = kubectl("get", "all", "-n", "redis-space", "--as=dev")
    assert code == 1
    assert 'User "dev" cannot list resource "pods" in API group "" in the namespace "redis-space"' in errors
    assert "pod/redis-" not in errors
    assert "nodejs-" in kubectl.ok("get", "pods", "-n", "node-space", "--as=dev")
    assert "redis-" in eventually_ok(kubectl, "get", "pods", "-n", "redis-space", "-o", "wide", "--as=dba",
                                     contains="redis-")  # fmt: skip

    # Beyond the seed: the account quota (pods: 2, limits.cpu: 4) holds when dev asks for more.
    kubectl.ok("scale", "deployment", "nodejs", "--replicas=3", "-n", "node-space", "--as=dev")
    eventually_ok(kubectl, "get", "events", "-n", "node-space", contains="exceeded")
    assert len(kubectl.ok("get", "pods", "-n", "node-space", "-o", "name").split()) == 2
    usage = json.loads(kubectl.ok("get", "accountquota", "default-user-limits", "-o", "json"))["status"]["total"]
    assert usage["used"] == {"pods": "2", "limits.cpu": "4"}
