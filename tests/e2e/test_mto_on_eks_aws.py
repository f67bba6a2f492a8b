"""Seed 000 ("MTO on EKS") end to end with AWS identities: an IAM user and an SSO role session, mapped
through aws-auth, reaching the cluster only with tokens from `kubectl tenancy aws token`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from kubetenancy.localcluster.controlplane import Cluster, ControlPlane
from kubetenancy.localcluster.gobuild import Binaries
from kubetenancy.localcluster.node import Node
from tests.support.kubectl import Kubectl
from tests.support.moto_aws import MotoAws

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).parents[2] / "examples"
SSO_ROLE = "AWSReservedSSO_PowerUserAccess_b0ad9936c75e5bcc"
PLUGIN = str(Path(sys.executable).parent / "kubectl-tenancy")


def aws_kubeconfig(cluster: Cluster, ca_file: Path, env: dict[str, str], path: Path) -> Path:
    """A kubeconfig whose user is the exec plugin, as `aws eks update-kubeconfig` writes one."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster.name, "cluster": {"server": cluster.server, "certificate-authority": str(ca_file)}}
        ],
        "users": [
            {
                "name": "aws",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": PLUGIN,
                        "args": ["aws", "token", "--cluster", cluster.name],
                        "env": [{"name": k, "value": v} for k, v in env.items()],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "aws", "context": {"cluster": cluster.name, "user": "aws"}}],
        "current-context": "aws",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def as_aws(binaries: Binaries, kubeconfig: Path, *args: str) -> tuple[int, str]:
    result = subprocess.run(
        [binaries.kubectl, f"--kubeconfig={kubeconfig}", *args], capture_output=True, text=True, check=False, timeout=60
    )
    return result.returncode, (result.stdout + result.stderr).strip()


def test_mto_on_eks_with_iam_and_sso_identities(
    aws: MotoAws,
    control_plane: ControlPlane,
    cluster: Cluster,
    binaries: Binaries,
    kubectl: Kubectl,
    operator: str,
    node: Node,
    tmp_path: Path,
) -> None:
    admin_env = {**os.environ, **aws.env()}
    iam = boto3.client("iam", **_client_args(aws))
    user_arn = iam.create_user(UserName="test-benzema-mto")["User"]["Arn"]
    key = iam.create_access_key(UserName="test-benzema-mto")["AccessKey"]
    role_arn = iam.create_role(
        RoleName=SSO_ROLE, Path="/aws-reserved/sso.amazonaws.com/eu-north-1/", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    account = user_arn.split(":")[4]
    session = boto3.client("sts", **_client_args(aws)).assume_role(
        RoleArn=role_arn, RoleSessionName="random-user-stakater.com"
    )["Credentials"]

    # The admin maps both identities as the walkthrough's aws-auth does (the role without its path).
    def tenancy(*args: str) -> None:
        subprocess.run([PLUGIN, *args, f"--kubeconfig={cluster.kubeconfig()}"], env=admin_env, check=True)

    tenancy("aws", "map-identity", "--arn", user_arn, "--username", "test-benzema-mto", "--group", "iam-devteam")
    tenancy(
        "aws", "map-identity", "--arn", f"arn:aws:iam::{account}:role/{SSO_ROLE}",
        "--username", "sso-devteam:{{SessionName}}", "--group", "sso-devteam", "--no-duplicate-arns",
    )  # fmt: skip
    iam_user = aws_kubeconfig(
        cluster, control_plane.ca_file, aws.env(key["AccessKeyId"], key["SecretAccessKey"]), tmp_path / "iam"
    )
    sso_user = aws_kubeconfig(
        cluster,
        control_plane.ca_file,
        aws.env(session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"]),
        tmp_path / "sso",
    )
    users = {
        "test-benzema-mto": (iam_user, "tenant-iam", "tenant-sso"),
        "sso-devteam:random-user-stakater.com": (sso_user, "tenant-sso", "tenant-iam"),
    }
    for name, (kubeconfig, _, _) in users.items():
        assert as_aws(binaries, kubeconfig, "get", "svc") == (
            1,
            f'Error from server (Forbidden): services is forbidden: User "{name}" cannot list resource "services" '
            'in API group "" in the namespace "default"',
        )

    kubectl.ok("apply", "-f", EXAMPLES / "mto-on-eks")
    for tenant in ("tenant-iam", "tenant-sso"):
        kubectl.ok("wait", "--for=condition=Ready", f"tenant/{tenant}", "--timeout=60s")
        kubectl.ok("wait", "--for=create", "serviceaccount/default", "-n", f"{tenant}-dev", "--timeout=60s")
        # Another replay in this session may have run the walkthrough's pod already.
        kubectl("delete", "pod", "nginx", "-n", f"{tenant}-dev", "--ignore-not-found", "--wait")
    for name, (kubeconfig, own, other) in users.items():
        assert as_aws(binaries, kubeconfig, "run", "nginx", "--image", "nginx", "-n", f"{own}-dev") == (
            0,
            "pod/nginx created",
        )
        assert kubectl.running("nginx", f"{own}-dev") == "Running"
        kubectl.ok("delete", "pod", "nginx", "-n", f"{own}-dev", "--wait")  # its 800m are the node's to share
        assert as_aws(binaries, kubeconfig, "run", "nginx", "--image", "nginx", "-n", f"{other}-dev") == (
            1,
            f'Error from server (Forbidden): pods is forbidden: User "{name}" cannot create resource "pods" in API '
            f'group "" in the namespace "{other}-dev"',
        )
        assert as_aws(binaries, kubeconfig, "get", "namespaces")[1] == (
            f'Error from server (Forbidden): namespaces is forbidden: User "{name}" cannot list resource "namespaces" '
            'in API group "" at the cluster scope'
        )

    whoami = subprocess.run(
        [PLUGIN, "aws", "whoami", "--cluster", cluster.name, f"--kubeconfig={cluster.kubeconfig()}"],
        env={**os.environ, **aws.env(session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])},
        capture_output=True,
        text=True,
        check=True,
    )
    assert whoami.stdout.splitlines() == [
        f"ARN:      arn:aws:sts::{account}:assumed-role/{SSO_ROLE}/random-user-stakater.com",
        "Username: sso-devteam:random-user-stakater.com",
        "Groups:   sso-devteam, system:authenticated",
    ]


def _client_args(aws: MotoAws) -> dict[str, str]:
    env = aws.env()
    return {
        "endpoint_url": env["AWS_ENDPOINT_URL"],
        "region_name": env["AWS_DEFAULT_REGION"],
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
    }
