"""`kubectl tenancy aws identities` and `kubectl tenancy aws check-identity`: Cluster API AWS identities
as a tenancy feature, seen from the management cluster.

`identities` reads the identities, the CAPA objects using them and the namespaces, and judges them with
CAPA's own semantics (the same code as the admission rules). `check-identity` walks one identity's chain
against AWS with fresh STS sessions, starting from the credentials the CLI runs with (standing for CAPA
controller's own, for a controller identity) or a static identity's Secret.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from pathlib import Path
from typing import Annotated

import boto3
import typer
from rich.console import Console
from rich.table import Table

from kubetenancy.cloud.allowed_namespaces import describe
from kubetenancy.cloud.assume_chain import HopFailed, walk_with_sts
from kubetenancy.cloud.identity_chain import first_refusal, not_permitted
from kubetenancy.cloud.identity_index import IdentityIndex
from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.frontdoors.table import CAPA_IDENTITIES
from kubetenancy.k8s import ApiError, Kube
from kubetenancy.model import IdentityKey
from kubetenancy.operator.capa import CAPA_CRDS, installed_crds, load

console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 100_000)
"""A terminal folds long cells; a pipe gets one line per identity (for grep and scripts)."""
KubeconfigOption = Annotated[Path | None, typer.Option("--kubeconfig", help="Kubeconfig (default: $KUBECONFIG).")]
SHORT_KINDS = {
    d.served.kind: d.served.kind.removeprefix("AWSCluster").removesuffix("Identity") for d in CAPA_IDENTITIES
}


async def _index(kubeconfig: Path | None) -> IdentityIndex:
    async with Kube(kubeconfig) as kube:
        if await installed_crds(kube) != CAPA_CRDS:
            console.print("[red]error:[/] Cluster API AWS's identity CRDs are not installed on this cluster")
            raise typer.Exit(1)
        index = IdentityIndex()
        await load(kube, index)
        return index


def _tenants(index: IdentityIndex, namespaces: list[str]) -> str:
    owners = sorted({o for ns in namespaces if (o := namespace_owner(index.namespace_labels.get(ns, {})))})
    return ", ".join(owners) or "-"


def identities(kubeconfig: KubeconfigOption = None) -> None:
    """List CAPA identities: role, account, chain, who may use them (CAPA's semantics) and who does."""
    index = asyncio.run(_index(kubeconfig))
    table = Table(box=None, pad_edge=False)
    for column in ("IDENTITY", "KIND", "ROLE ARN", "ACCOUNT", "CHAIN", "ALLOWS", "TENANTS", "NAMESPACES", "CLUSTERS"):
        table.add_column(column, overflow="fold")
    for key, identity in sorted(index.identities.items(), key=lambda item: (item[0].name, item[0].kind)):
        chain = index.chain(key)
        allowed = index.namespaces_allowed(key)
        users = []
        for cluster in index.clusters_using(key):
            refusal = index.refusal(cluster)
            users.append(f"{cluster}" + (f" (refused: {refusal})" if refusal else ""))
        table.add_row(
            key.name,
            SHORT_KINDS[key.kind],
            identity.role_arn or "-",
            chain.landing_account or "-",
            chain.describe(),
            describe(identity.allowance),
            _tenants(index, allowed),
            ", ".join(allowed) or "-",
            "; ".join(users) or "-",
        )
    out.print(table)


async def _static_root(kubeconfig: Path | None, secret: str, namespace: str) -> boto3.Session:
    async with Kube(kubeconfig) as kube:
        found = await kube.get("v1", "Secret", secret, namespace)
    if found is None:
        raise HopFailed(f'the static identity\'s Secret "{secret}" is not in namespace "{namespace}"')
    data = {k: base64.b64decode(v).decode() for k, v in (found.get("data") or {}).items()}
    return boto3.Session(
        aws_access_key_id=data.get("AccessKeyID"),
        aws_secret_access_key=data.get("SecretAccessKey"),
        aws_session_token=data.get("SessionToken") or None,
    )


def check_identity(
    name: Annotated[str, typer.Argument(help="The identity's name.")],
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="First check that this namespace may use it.")
    ] = None,
    kind: Annotated[str, typer.Option(help="The identity's kind.")] = "AWSClusterRoleIdentity",
    controller_namespace: Annotated[
        str, typer.Option(help="CAPA's namespace, where static identities' Secrets live.")
    ] = "capa-system",
    region: Annotated[str | None, typer.Option(help="STS region (default: $AWS_REGION, else us-east-1).")] = None,
    kubeconfig: KubeconfigOption = None,
) -> None:
    """Walk NAME's sourceIdentityRef chain with fresh STS sessions and print each hop, or the AWS error."""
    index = asyncio.run(_index(kubeconfig))
    chain = index.chain(IdentityKey(kind, name))
    if chain.problem:
        console.print(f"[red]error:[/] {chain.problem}")
        raise typer.Exit(1)
    if namespace is not None:
        refused = first_refusal(chain, namespace, index.namespace_labels.get(namespace))
        if refused is not None:
            console.print(f"[red]error:[/] {not_permitted(refused)} (namespace {namespace})")
            raise typer.Exit(1)
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    typer.echo(f"chain: {chain.describe()}")
    try:
        root = chain.hops[-1]
        session = (
            asyncio.run(_static_root(kubeconfig, root.secret_ref, controller_namespace))
            if root.secret_ref
            else boto3.Session()
        )
        for number, hop in enumerate(walk_with_sts(chain, session, region)):
            if hop.assumed:
                typer.echo(
                    f"hop {number}: {hop.identity}: assumed {hop.assumed} -> {hop.caller} (account {hop.account})"
                )
            else:
                typer.echo(f"hop {number}: {hop.identity}: {hop.caller} (account {hop.account})")
    except (HopFailed, ApiError) as error:
        console.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
    typer.echo(f"ok: clusters using {kind} {name} land in account {hop.account}")
