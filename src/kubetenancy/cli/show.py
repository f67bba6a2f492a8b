"""`kubectl tenancy show admin-rbac`: each tenant admin's permissions in each managed cluster, as sveltosctl
prints them (the same columns and ASCII table), read from what is deployed in the clusters.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kubetenancy.k8s import ApiError, Kube
from kubetenancy.multicluster import adminrbac
from kubetenancy.multicluster.registry import ClusterRegistry

app = typer.Typer(no_args_is_help=True, help="Show what tenant admins may do across managed clusters.")
errors = Console(stderr=True)

ASCII = box.Box("+-++\n| ||\n+-++\n| ||\n+-++\n+-++\n| ||\n+-++\n", ascii=True)
"""The table style of sveltosctl (olekukonko/tablewriter): +---+ borders, a rule under the header."""


def _centered(text: str, width: int) -> str:
    """As tablewriter centers headers: the odd space goes to the right."""
    gap = width - len(text)
    return " " * (gap // 2) + text + " " * (gap - gap // 2)


def render(rows: list[adminrbac.Row], console: Console) -> None:
    table = Table(box=ASCII, show_edge=True, header_style="", highlight=False, pad_edge=True)
    for index, header in enumerate(adminrbac.HEADERS):
        width = max([len(header), *(len(row[index]) for row in rows)])
        table.add_column(Text(_centered(header, width)), no_wrap=True, overflow="ignore")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)


@app.command("admin-rbac")
def admin_rbac(
    admin: Annotated[str | None, typer.Option(help="Only this tenant admin (ServiceAccount name).")] = None,
    namespace: Annotated[str | None, typer.Option(help="Only clusters registered in this namespace.")] = None,
    cluster: Annotated[str | None, typer.Option(help="Only clusters with this name.")] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for each managed cluster.")] = 15.0,
    kubeconfig: Annotated[
        Path | None, typer.Option(help="Kubeconfig of the management cluster (default: $KUBECONFIG).")
    ] = None,
) -> None:
    """Print CLUSTER / ADMIN / NAMESPACE / API GROUPS / RESOURCES / RESOURCE NAMES / VERBS per granted rule."""

    async def collect() -> adminrbac.Collected:
        async with Kube(kubeconfig) as kube:
            registry = ClusterRegistry(kube, timeout=timeout, concurrency=8)
            try:
                return await adminrbac.collect(registry, namespace=namespace, cluster=cluster, admin=admin)
            finally:
                await registry.close()

    try:
        found = asyncio.run(collect())
    except ApiError as error:
        errors.print(f"Error from server ({error.status.reason}): {error.status.message}", markup=False)
        raise typer.Exit(1) from None
    render(found.rows, Console(width=100_000, highlight=False, soft_wrap=True))
    for where, why in found.failures.items():
        errors.print(f"error: could not read {where}: {why}", markup=False)
    if not found.rows:
        # As `kubectl get` says "No resources found": an empty table is an answer, and says why.
        errors.print(f"No rules found: {adminrbac.why_empty(found, admin=admin)}", markup=False, soft_wrap=True)
    if found.failures:
        raise typer.Exit(1)
