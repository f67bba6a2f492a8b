"""Seed 003 ("Multitenancy setup with EKS and Service Account") end to end: the real CAPA v2.13.0 and
Cluster API v1.13.4 managers on a local control plane of their own, moto (a process of its own) as AWS
with the manager account 123456789012 and the managed account 111111111111, and kubetenancy's operator.

The walkthrough's files (examples/capa-multitenancy) are applied as written after envsubst. moto's
request recording shows CAPA assuming the managed account's role, and the VPC is found in the managed
account, not in the manager's. Then the identity is narrowed to one tenant (the README's pattern): the
second tenant's cluster is refused, and once the identity allows it, a cluster of the same name as the
first tenant's is refused while another name is admitted.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import string
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from kubetenancy.k8s import Kube
from kubetenancy.localcluster.companions import start_operator
from kubetenancy.localcluster.controlplane import Cluster, ControlPlane
from kubetenancy.localcluster.gobuild import CAPA, Binaries, build
from kubetenancy.localcluster.processes import Process, free_port, port_is_listening, spawn, wait_until
from tests.support.capa import Managers, capi_crds, crds, environment, install, start_managers
from tests.support.kubectl import Kubectl
from tests.support.waiting import eventually

# A cold build of the CAPA manager (first run on a machine) alone takes ~6 minutes on 2 idle cores.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(3600)]

EXAMPLES = Path(__file__).parents[2] / "examples" / "capa-multitenancy"
MANAGER, MANAGED, REGION = "123456789012", "111111111111", "us-east-1"
CONTROLLERS_ROLE = "controllers.cluster-api-provider-aws.sigs.k8s.io"
CLUSTER_TAG = "sigs.k8s.io/cluster-api-provider-aws/cluster/managed"
VARIABLES = {
    "AWS_REGION": REGION,
    "AWS_MANAGER_ACCOUNT_ID": MANAGER,
    "AWS_MANAGED_ACCOUNT_ID": MANAGED,
    "OIDC_PROVIDER_ID": "WeWillReplaceThisLater",
}


def envsubst(name: str, directory: Path, **extra: str) -> Path:
    """The example with its ${VARIABLES} filled in, as the walkthrough's `envsubst` does."""
    text = string.Template((EXAMPLES / name).read_text()).substitute({**VARIABLES, **extra})
    path = directory / (f"{'-'.join(extra.values())}-{name}" if extra else name)
    path.write_text(text)
    return path


@dataclass
class World:
    cluster: Cluster
    kubectl: Kubectl
    moto: str
    directory: Path
    controller_env: dict[str, str]
    """CAPA controller's AWS environment: a session of the manager account's controllers role."""
    bootstrap: str
    """How the IAM roles were made (clusterawsadm's CloudFormation stack, or IAM if moto could not)."""

    def aws(self, service: str, account: str = MANAGER) -> Any:
        """A boto3 client acting in `account` (moto lets any role be assumed, which gives its account)."""
        base = {"endpoint_url": self.moto, "region_name": REGION}
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        if account != MANAGER:
            arn = f"arn:aws:iam::{account}:role/{CONTROLLERS_ROLE}"
            creds = session.client("sts", **base).assume_role(RoleArn=arn, RoleSessionName="e2e")["Credentials"]
            session = boto3.Session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        return session.client(service, **base)

    def recorded_from_capa(self) -> list[str]:
        """The (form-decoded) bodies of the requests CAPA (the Go SDK) made since recording started."""
        with urllib.request.urlopen(f"{self.moto}/moto-api/recorder/download-recording", timeout=10) as answer:
            lines = [json.loads(line) for line in answer.read().decode().splitlines() if line.strip()]
        bodies = []
        for entry in lines:
            body = str(entry.get("body") or "")
            if str(entry.get("body_encoded")) == "True":
                body = base64.b64decode(body).decode(errors="replace")
            if "aws-sdk-go" in str(entry.get("headers", "")):
                bodies.append(unquote_plus(body))
        return bodies


def _start_moto(directory: Path) -> tuple[Process, str]:
    port = free_port()
    with environment({"MOTO_RECORDER_FILEPATH": str(directory / "moto_recording")}):
        moto = spawn(
            "moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], directory / "moto.log"
        )
    wait_until(moto, lambda: port_is_listening(port), 30, "listening")
    return moto, f"http://127.0.0.1:{port}"


def _trust(principal: dict[str, Any]) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _bootstrap(world: World, clusterawsadm: Path) -> str:
    """The walkthrough's two `clusterawsadm bootstrap iam create-cloudformation-stack` runs; if moto's
    CloudFormation cannot run them, the same roles made through IAM (and the reason is returned). moto
    5.2 cannot: it reads the template's `Version: 2012-10-17` as a YAML date and answers 500 (`Object of
    type date is not JSON serializable`) to clusterawsadm's DescribeStackResources."""
    failures = []
    for name, account in (("bootstrap-manager-account.yaml", MANAGER), ("bootstrap-managed-account.yaml", MANAGED)):
        creds = _credentials(world, account)
        result = subprocess.run(
            [clusterawsadm, "bootstrap", "iam", "create-cloudformation-stack", "--config",
             envsubst(name, world.directory)],
            env={**os.environ, **creds, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": world.moto},
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        if result.returncode != 0:
            lines = (result.stdout + result.stderr).splitlines()
            failures.append(f"{name}: {next((line for line in lines if line.startswith('Error:')), lines[-1:])}")
    roles = {a: {r["RoleName"] for r in world.aws("iam", a).list_roles()["Roles"]} for a in (MANAGER, MANAGED)}
    if not failures and all(CONTROLLERS_ROLE in names for names in roles.values()):
        return "clusterawsadm"
    for account, principal in ((MANAGER, {"Service": "ec2.amazonaws.com"}), (MANAGED, {"AWS": _manager_role()})):
        iam = world.aws("iam", account)
        for role in (CONTROLLERS_ROLE, "eks-controlplane.cluster-api-provider-aws.sigs.k8s.io"):
            if role not in roles[account]:
                iam.create_role(RoleName=role, AssumeRolePolicyDocument=_trust(principal))
    return "IAM, because clusterawsadm against moto failed: " + " | ".join(failures)


def _manager_role() -> str:
    return f"arn:aws:iam::{MANAGER}:role/{CONTROLLERS_ROLE}"


def _credentials(world: World, account: str) -> dict[str, str]:
    """AWS environment variables of a session in `account` (the default moto key for the manager)."""
    if account == MANAGER:
        return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    arn = f"arn:aws:iam::{account}:role/{CONTROLLERS_ROLE}"
    sts = world.aws("sts")
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="bootstrap")["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


def _controller_env(world: World) -> dict[str, str]:
    """CAPA's credentials: a session of the manager account's controllers role (standing for IRSA)."""
    creds = world.aws("sts").assume_role(RoleArn=_manager_role(), RoleSessionName="capa-controller")["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": world.moto,
    }


async def _install_cluster_api(cluster: Cluster) -> None:
    async with Kube(cluster.kubeconfig()) as admin:
        await install(admin, [*capi_crds(), *crds(CAPA)])


async def _start_managers(world: World) -> Managers:
    async with Kube(world.cluster.kubeconfig()) as admin:
        return await start_managers(admin, world.cluster, world.directory, world.controller_env)


@pytest.fixture(scope="module")
def world(binaries: Binaries, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A control plane of its own with Cluster API's and CAPA's CRDs (installed before the operator, so it
    leaves Cluster API's `clusters` CRD alone), the operator, moto, the IAM roles and both managers."""
    directory = tmp_path_factory.mktemp("capa")
    clusterawsadm = build(CAPA) / "clusterawsadm"
    moto, endpoint = _start_moto(directory)
    plane = ControlPlane(directory / "plane", clusters=1)
    stack: list[Any] = [moto, plane]
    try:
        plane.start(binaries)
        cluster = plane.cluster()
        asyncio.run(_install_cluster_api(cluster))
        operator, _ = start_operator(cluster, directory, directory / "operator-certs")
        stack.append(operator)
        world = World(cluster, Kubectl(binaries, cluster), endpoint, directory, {}, "")
        world.bootstrap = _bootstrap(world, clusterawsadm)
        world.controller_env = _controller_env(world)
        urllib.request.urlopen(
            urllib.request.Request(f"{endpoint}/moto-api/recorder/start-recording", method="POST"), timeout=10
        ).close()
        stack.append(asyncio.run(_start_managers(world)))
        yield world
    finally:
        for part in reversed(stack):
            part.stop()


def _vpcs_of_cluster(world: World, account: str) -> list[str]:
    vpcs = world.aws("ec2", account).describe_vpcs(Filters=[{"Name": "tag-key", "Values": [CLUSTER_TAG]}])
    return [v["VpcId"] for v in vpcs["Vpcs"]]


def test_seed_003_multitenancy_with_the_real_capa(world: World) -> None:
    kubectl = world.kubectl
    # The walkthrough's identities, verbatim (v1beta1, allowedNamespaces: {}): applied, with warnings.
    code, output = kubectl("apply", "-f", envsubst("cluster-role-identity.yaml", world.directory))
    assert code == 0, output
    assert (
        "Warning: spec.allowedNamespaces: {} (or selector: {}, which CAPA's book says matches none) "
        "lets every namespace use AWSClusterRoleIdentity managed-account" in (output)
    )
    assert (
        "Warning: spec.allowedNamespaces: {} (or selector: {}, which CAPA's book says matches none) "
        "lets every namespace use AWSClusterControllerIdentity default" in (output)
    )
    assert "created" in output
    kubectl.ok("apply", "-f", EXAMPLES / "tenants.yaml")

    async def tenant_namespaces() -> bool:
        async with Kube(world.cluster.kubeconfig()) as admin:
            return all([await admin.get("v1", "Namespace", f"{t}-clusters") for t in ("logistics", "retail")])

    asyncio.run(eventually(tenant_namespaces))
    # The managed cluster in tenant logistics' namespace: CAPA assumes the managed account's role and
    # builds the network there.
    first = envsubst("managed-cluster.yaml", world.directory, CLUSTER_NAME="managed", NAMESPACE="logistics-clusters")
    kubectl.ok("apply", "-f", first)

    async def vpc_in_the_managed_account() -> bool:
        return bool(_vpcs_of_cluster(world, MANAGED))

    asyncio.run(eventually(vpc_in_the_managed_account, within=300))
    from_capa = world.recorded_from_capa()
    assert any(f"RoleArn=arn:aws:iam::{MANAGED}:role/{CONTROLLERS_ROLE}" in b and "AssumeRole" in b for b in from_capa)
    assert any("Action=CreateVpc" in body for body in from_capa)
    assert _vpcs_of_cluster(world, MANAGER) == []
    # The README's pattern: the identity selects tenant logistics' namespaces. Tenant retail is refused.
    code, output = kubectl("apply", "-f", envsubst("cluster-role-identity-per-tenant.yaml", world.directory))
    assert code == 0, output
    assert "Warning" not in output
    other = envsubst("managed-cluster.yaml", world.directory, CLUSTER_NAME="other", NAMESPACE="retail-clusters")
    code, output = kubectl("apply", "-f", other)
    assert code != 0
    assert (
        'AWSManagedControlPlane.controlplane.cluster.x-k8s.io "other-control-plane" is forbidden: spec.identityRef: '
        "Namespace is not permitted to use AWSClusterRoleIdentity: managed-account" in output
    )
    # Allowing retail too: a cluster named like logistics' is refused, another name is admitted.
    kubectl.ok(
        "patch", "awsclusterroleidentity", "managed-account", "--type=merge", "-p",
        json.dumps({"spec": {"allowedNamespaces": {"selector": {"matchLabels": None, "matchExpressions": [
            {"key": "stakater.com/tenant", "operator": "In", "values": ["logistics", "retail"]}]}}}}),
    )  # fmt: skip
    same = envsubst("managed-cluster.yaml", world.directory, CLUSTER_NAME="managed", NAMESPACE="retail-clusters")
    code, output = kubectl("apply", "-f", same)
    assert code != 0
    assert (
        'Cluster API cluster name "managed" is already used by AWSManagedControlPlane '
        f"logistics-clusters/managed-control-plane, which may reach the same AWS account ({MANAGED})" in output
    )
    kubectl.ok("apply", "-f", other)
    # What the CLI tells: the identity's account, tenants and clusters; the chain walked with STS.
    table = _tenancy(world, "aws", "identities")
    assert "managed-account" in table
    assert "logistics, retail" in table
    assert "AWSManagedControlPlane logistics-clusters/managed-control-plane" in table
    checked = _tenancy(world, "aws", "check-identity", "managed-account", "--namespace", "retail-clusters")
    assert f"assumed arn:aws:iam::{MANAGED}:role/{CONTROLLERS_ROLE} -> arn:aws:sts::{MANAGED}:assumed-role/" in checked
    assert f"ok: clusters using AWSClusterRoleIdentity managed-account land in account {MANAGED}" in checked
    # Taking the identity from tenant logistics warns at apply time and shows on its cluster object.
    code, output = kubectl(
        "patch", "awsclusterroleidentity", "managed-account", "--type=merge", "-p",
        json.dumps({"spec": {"allowedNamespaces": {"selector": {"matchExpressions": [
            {"key": "stakater.com/tenant", "operator": "In", "values": ["retail"]}]}}}}),
    )  # fmt: skip
    assert code == 0, output
    assert (
        "Warning: AWSManagedControlPlane logistics-clusters/managed-control-plane may no longer use "
        "AWSClusterRoleIdentity managed-account" in output
    )

    async def described() -> bool:
        shown = kubectl.ok("describe", "awsmanagedcontrolplane", "-n", "logistics-clusters", "managed-control-plane")
        return "PrincipalUsageUnauthorized" in shown and "Namespace is not permitted to use" in shown

    asyncio.run(eventually(described))
    print(f"IAM roles made by: {world.bootstrap}")


def _tenancy(world: World, *args: str) -> str:
    result = subprocess.run(
        [Path(sys.executable).parent / "kubectl-tenancy", *args, f"--kubeconfig={world.cluster.kubeconfig()}"],
        env={**os.environ, **world.controller_env},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
