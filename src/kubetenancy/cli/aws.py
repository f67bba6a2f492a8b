"""`kubectl tenancy aws …`: EKS-style identities on any cluster kubetenancy authenticates for.

`token` prints an ExecCredential like `aws eks get-token`; `map-identity`/`unmap-identity` edit
kube-system/aws-auth like `eksctl create/delete iamidentitymapping`; `whoami` tells what a token maps to;
`authenticator` serves the TokenReview webhook; `identities` and `check-identity` are Cluster API AWS's
identities (`kubetenancy.cli.aws_identities`).
"""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import boto3
import typer
from rich.console import Console

from kubetenancy.cli.aws_identities import check_identity, identities
from kubetenancy.cloud.aws_auth import AwsAuthError, IdentityMapping, add_mapping, kind_of, remove_mapping
from kubetenancy.cloud.sts import exec_credential, presigned_token
from kubetenancy.k8s import ApiError, Kube
from kubetenancy.k8s.configmaps import update_data
from kubetenancy.operator.token_review import TokenReviewer
from kubetenancy.serving import tls_context

app = typer.Typer(no_args_is_help=True, help="AWS IAM users and roles as Kubernetes identities (as on EKS).")
console = Console(stderr=True)
app.command("identities")(identities)
app.command("check-identity")(check_identity)
KubeconfigOption = Annotated[Path | None, typer.Option("--kubeconfig", help="Kubeconfig (default: $KUBECONFIG).")]
DataChange = Callable[[dict[str, str]], dict[str, str]]


@app.command()
def token(cluster: Annotated[str, typer.Option(help="The cluster id the token is for.")]) -> None:
    """Print an ExecCredential with an EKS token for CLUSTER (AWS credentials from the usual chain)."""
    typer.echo(json.dumps(exec_credential(presigned_token(cluster), datetime.datetime.now(datetime.UTC))))


def _edit_aws_auth(kubeconfig: Path | None, change: DataChange, *, create: bool) -> None:
    async def run() -> None:
        async with Kube(kubeconfig) as kube:
            await update_data(kube, "kube-system", "aws-auth", change, create=create)

    try:
        asyncio.run(run())
    except (AwsAuthError, LookupError) as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
    except ApiError as error:
        console.print(f"[red]Error from server ({error.status.reason}):[/] {error.status.message}")
        raise typer.Exit(1) from None


@app.command("map-identity")
def map_identity(
    arn: Annotated[str, typer.Option(help="IAM user or role ARN.")],
    username: Annotated[str, typer.Option(help="Kubernetes user name; may use {{SessionName}}, {{AccountID}}.")],
    group: Annotated[list[str] | None, typer.Option(help="Kubernetes group (repeatable).")] = None,
    no_duplicate_arns: Annotated[bool, typer.Option(help="Refuse if the ARN is already mapped.")] = False,
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Add a mapping to kube-system/aws-auth, keeping every other line as it is."""
    mapping = IdentityMapping(kind_of(arn), arn, username, tuple(group or ()))
    _edit_aws_auth(
        kubeconfig, lambda data: add_mapping(data, mapping, no_duplicate_arns=no_duplicate_arns), create=True
    )
    console.print(f"mapped {arn} to {username}")


@app.command("unmap-identity")
def unmap_identity(
    arn: Annotated[str, typer.Option(help="IAM user or role ARN.")],
    all_: Annotated[bool, typer.Option("--all", help="Remove every mapping of the ARN, not only the first.")] = False,
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Remove a mapping from kube-system/aws-auth, keeping every other line as it is."""
    _edit_aws_auth(kubeconfig, lambda data: remove_mapping(data, arn, remove_all=all_), create=False)
    console.print(f"unmapped {arn}")


@app.command()
def whoami(
    cluster: Annotated[str, typer.Option(help="The cluster id tokens are made for.")],
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Print the ARN of the current AWS credentials and the user and groups the cluster maps them to."""
    arn = boto3.client("sts").get_caller_identity()["Arn"]

    async def ask() -> dict[str, object]:
        async with Kube(kubeconfig, token=presigned_token(cluster)) as kube:
            review = await kube.create({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
            info: dict[str, object] = review["status"]["userInfo"]
            return info

    try:
        info = asyncio.run(ask())
    except ApiError as error:
        console.print(f"[red]error:[/] {arn} is not authenticated by the cluster: {error.status.message}")
        raise typer.Exit(1) from None
    typer.echo(f"ARN:      {arn}\nUsername: {info['username']}\nGroups:   {', '.join(info.get('groups') or [])}")  # type: ignore[arg-type]


@app.command()
def authenticator(
    cluster: Annotated[str, typer.Option(help="The cluster id tokens must be made for.")],
    cert_file: Annotated[Path, typer.Option(help="TLS certificate the API server trusts for this webhook.")],
    key_file: Annotated[Path, typer.Option(help="Its private key.")],
    client_ca_file: Annotated[
        Path | None,
        typer.Option(
            help="CA of the client certificate the API server presents (its webhook kubeconfig); "
            "callers without one are refused."
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port of https://ADDR:PORT/authenticate.")] = 21362,
    addr: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    sts_endpoint: Annotated[
        list[str] | None, typer.Option(help="Also trust this STS base URL (e.g. a test STS); repeatable.")
    ] = None,
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Serve the TokenReview webhook that authenticates EKS tokens through aws-auth."""
    context = tls_context(cert_file, key_file, client_ca_file)

    async def serve() -> None:
        reviewer = TokenReviewer(kubeconfig, cluster, frozenset(e.rstrip("/") for e in sts_endpoint or ()))
        await reviewer.start(addr, port, context)
        try:
            await asyncio.Event().wait()
        finally:
            await reviewer.stop()

    asyncio.run(serve())
