"""EKS tokens at the real API server, and aws-auth edits on a real ConfigMap."""

from __future__ import annotations

import asyncio
import datetime
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import boto3
import pytest

from kubetenancy.cloud.sts import presigned_token
from kubetenancy.cloud.token import encode
from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.controlplane import Cluster
from tests.support.kubectl import Kubectl
from tests.support.moto_aws import MotoAws

pytestmark = pytest.mark.integration
PLUGIN = str(Path(sys.executable).parent / "kubectl-tenancy")
NODE_ROLES = """\
# Managed by the node group: keep as is.
- rolearn: arn:aws:iam::123456789012:role/eks-nodes
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
"""


async def status_of(cluster: Cluster, token: str) -> int:
    async with Kube(cluster.kubeconfig(), token=token) as kube:
        try:
            await kube.list("v1", "Namespace")
        except ApiError as error:
            return error.status.code
    return 200


def session(aws: MotoAws, user: str) -> boto3.Session:
    """A new IAM user's credentials (boto3 finds moto's STS through AWS_ENDPOINT_URL_STS)."""
    env = aws.env()
    iam = boto3.client("iam", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="eu-north-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return boto3.Session(key["AccessKeyId"], key["SecretAccessKey"], region_name="eu-north-1")


def forged(host: str, signed_at: datetime.datetime) -> str:
    query = {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "X-Amz-Credential": "AKIAEXAMPLE/20261122/eu-north-1/sts/aws4_request",
        "X-Amz-Date": signed_at.strftime("%Y%m%dT%H%M%SZ"),
        "X-Amz-Expires": "60",
        "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
        "X-Amz-Signature": "0" * 64,
    }
    return encode(f"{host}/?{urlencode(query)}")


async def test_only_mapped_fresh_tokens_from_trusted_sts_authenticate(
    aws: MotoAws, cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", aws.sts_endpoint)
    now = datetime.datetime.now(datetime.UTC)
    unmapped = presigned_token(cluster.name, session(aws, "not-in-aws-auth"))
    assert await status_of(cluster, unmapped) == 401
    assert await status_of(cluster, forged("https://sts.evil.example", now)) == 401
    assert await status_of(cluster, forged(aws.sts_endpoint, now - datetime.timedelta(minutes=20))) == 401
    mapped_session = session(aws, "mapped-reader")
    arn = mapped_session.client("sts", endpoint_url=aws.sts_endpoint).get_caller_identity()["Arn"]
    command = [PLUGIN, "aws", "map-identity", "--arn", arn, "--username", "mapped-reader"]
    mapping = await asyncio.create_subprocess_exec(*command, f"--kubeconfig={cluster.kubeconfig()}")
    assert await mapping.wait() == 0
    assert await status_of(cluster, presigned_token(cluster.name, mapped_session)) == 403  # known, but no RBAC


def test_aws_auth_keeps_unrelated_entries_byte_for_byte(cluster: Cluster, kubectl: Kubectl) -> None:
    kubectl("delete", "configmap", "aws-auth", "-n", "kube-system", "--ignore-not-found")
    kubectl.ok("create", "configmap", "aws-auth", "-n", "kube-system", f"--from-literal=mapRoles={NODE_ROLES}")
    before = kubectl.ok("get", "configmap", "aws-auth", "-n", "kube-system", "-o", "jsonpath={.data}")
    arn = "arn:aws:iam::123456789012:user/falcon@nordmart.com"

    def tenancy(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PLUGIN, "aws", *args, f"--kubeconfig={cluster.kubeconfig()}"], capture_output=True, text=True, check=False
        )

    assert (
        tenancy(
            "map-identity", "--arn", arn, "--username", "falcon@nordmart.com", "--group", "logistics-dev"
        ).returncode
        == 0
    )
    duplicate = tenancy("map-identity", "--arn", arn, "--username", "x", "--no-duplicate-arns")
    assert duplicate.returncode == 1
    assert "aws-auth already maps arn:aws:iam::123456789012:user/falcon@nordmart.com" in duplicate.stderr
    assert tenancy("unmap-identity", "--arn", arn).returncode == 0
    after = kubectl.ok("get", "configmap", "aws-auth", "-n", "kube-system", "-o", "jsonpath={.data}")
    assert after.replace(',"mapUsers":""', "") == before

    kubectl.ok(
        "patch",
        "configmap",
        "aws-auth",
        "-n",
        "kube-system",
        "--type=merge",
        "-p",
        '{"data":{"mapUsers":"- userarn: [oops"}}',
    )
    refused = tenancy("map-identity", "--arn", arn, "--username", "falcon@nordmart.com")
    assert refused.returncode == 1
    assert "data.mapUsers is not valid YAML" in refused.stderr
    assert "kubetenancy will not rewrite it" in refused.stderr
    kubectl("delete", "configmap", "aws-auth", "-n", "kube-system")
