"""The two MTO-on-EKS walkthroughs (shared/seeds/000 and 001), replayed with real token users.

The users authenticate with their own bearer tokens; the manifests are the ones in examples/. The
messages are Kubernetes' own, with the user and namespace each step really involves (a few lines of
the seeds were pasted from another run and name other ones).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetenancy.localcluster.node import Node
from tests.support.kubectl import Kubectl

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).parents[2] / "examples"


def forbidden_pods(user: str, namespace: str) -> str:
    return (
        f'Error from server (Forbidden): pods is forbidden: User "{user}" cannot create resource "pods" '
        f'in API group "" in the namespace "{namespace}"'
    )


def forbidden_namespaces(user: str) -> str:
    return (
        f'Error from server (Forbidden): namespaces is forbidden: User "{user}" cannot list resource '
        '"namespaces" in API group "" at the cluster scope'
    )


def forbidden_services(user: str) -> str:
    return (
        f'Error from server (Forbidden): services is forbidden: User "{user}" cannot list resource '
        '"services" in API group "" in the namespace "default"'
    )


def set_up_tenants(kubectl: Kubectl, folder: str, tenants: list[str]) -> None:
    kubectl.ok("apply", "-f", EXAMPLES / folder)
    for tenant in tenants:
        kubectl.ok("wait", "--for=condition=Ready", f"tenant/{tenant}", "--timeout=60s")
    for tenant in tenants:
        for ns in (f"{tenant}-dev", f"{tenant}-build"):
            # Pods need the namespace's default ServiceAccount, which the controller manager adds.
            kubectl.ok("wait", "--for=create", "serviceaccount/default", "-n", ns, "--timeout=60s")
        # Another replay in this session may have run the walkthrough's pod already.
        kubectl("delete", "pod", "nginx", "-n", f"{tenant}-dev", "--ignore-not-found", "--wait")


def replay(kubectl: Kubectl, folder: str, users: dict[str, str]) -> None:
    """`users` maps each tenant to its owner; every owner runs the walkthrough's steps."""
    for user in users.values():
        assert kubectl("get", "svc", user=user) == (1, forbidden_services(user))
    set_up_tenants(kubectl, folder, list(users))
    namespaces = kubectl.ok("get", "namespaces", "-o", "name")
    for tenant in users:
        assert f"namespace/{tenant}-dev" in namespaces
        assert f"namespace/{tenant}-build" in namespaces
    for tenant, user in users.items():
        other = next(t for t in users if t != tenant)
        assert kubectl("run", "nginx", "--image", "nginx", "-n", f"{tenant}-dev", user=user) == (
            0,
            "pod/nginx created",
        )
        assert kubectl.running("nginx", f"{tenant}-dev", user=user) == "Running"
        assert kubectl("run", "nginx", "--image", "nginx", "-n", f"{other}-dev", user=user) == (
            1,
            forbidden_pods(user, f"{other}-dev"),
        )
        assert kubectl("get", "namespaces", user=user) == (1, forbidden_namespaces(user))
    for tenant in users:
        # The tenants' LimitRange asks for 800m a pod: leave the node's two cores to the next replay.
        kubectl.ok("delete", "pod", "nginx", "-n", f"{tenant}-dev", "--wait")


def test_create_tenants_on_eks(operator: str, node: Node, kubectl: Kubectl) -> None:
    """Seed 001: falcon@nordmart.com owns logistics, bear@nordmart.com owns retail."""
    replay(kubectl, "mto-eks-tenants", {"logistics": "falcon@nordmart.com", "retail": "bear@nordmart.com"})


def test_mto_on_eks(operator: str, node: Node, kubectl: Kubectl) -> None:
    """Seed 000: IAM user test-benzema-mto (group iam-devteam) and an SSO user (group sso-devteam)."""
    replay(
        kubectl,
        "mto-on-eks",
        {"tenant-iam": "test-benzema-mto", "tenant-sso": "sso-devteam:random-user-stakater.com"},
    )
