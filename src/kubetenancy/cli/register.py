"""`kubectl tenancy register cluster`: register a managed cluster with the management cluster, as
`sveltosctl register cluster` does (a SveltosCluster and its kubeconfig Secret), or as Cluster API does
(`--kind Cluster`). What it writes is built by `multicluster.registration`; it applies it as the caller.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
import yaml

from kubetenancy.k8s import Kube
from kubetenancy.multicluster.registration import CAPI_KIND, SVELTOS_KIND, registration, self_contained

app = typer.Typer(no_args_is_help=True, help="Register managed clusters with the management cluster.")


def _labels(text: str) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in text.split(",") if item]
    if any(len(pair) != 2 or not pair[0] for pair in pairs):
        raise typer.BadParameter(f"{text!r}: expected KEY=VALUE[,KEY=VALUE...]", param_hint="--labels")
    return {key: value for key, value in pairs}


@app.command("cluster")
def cluster(
    namespace: Annotated[str, typer.Option(help="Namespace of the cluster object in the management cluster.")],
    cluster: Annotated[str, typer.Option(help="Name of the managed cluster.")],
    kubeconfig: Annotated[
        Path, typer.Option("--kubeconfig", exists=True, dir_okay=False, help="Admin kubeconfig of the managed cluster.")
    ],
    labels: Annotated[str, typer.Option(help="Labels to select the cluster by: KEY=VALUE[,KEY=VALUE...].")] = "",
    kind: Annotated[
        str, typer.Option(help=f"{SVELTOS_KIND} (as sveltosctl registers) or {CAPI_KIND} (as Cluster API does).")
    ] = SVELTOS_KIND,
    management_kubeconfig: Annotated[
        Path | None,
        typer.Option("--management-kubeconfig", help="Kubeconfig of the management cluster (default: $KUBECONFIG)."),
    ] = None,
) -> None:
    """Write the managed cluster's kubeconfig Secret (certificates inlined) and its cluster object."""
    if kind not in (SVELTOS_KIND, CAPI_KIND):
        raise typer.BadParameter(f"{kind!r}: choose {SVELTOS_KIND} or {CAPI_KIND}", param_hint="--kind")
    config = self_contained(yaml.safe_load(kubeconfig.read_text()) or {}, lambda path: Path(path).read_bytes())
    objects = registration(kind, namespace, cluster, config, _labels(labels))

    async def apply() -> None:
        async with Kube(management_kubeconfig) as kube:
            for obj in objects:
                await kube.apply(obj)

    asyncio.run(apply())
    typer.echo(
        f"{kind.lower()}.{objects[-1]['apiVersion'].split('/')[0]}/{cluster} registered in namespace {namespace}"
    )
