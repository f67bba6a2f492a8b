"""`kubectl tenancy showback [--window 7d] [--tenant NAME] [-o table|csv|json]`: what your tenants cost.

Reads `tenantcosts.showback.kubetenancy.dev` (the aggregated API) through the API server with your own
credentials, so you see exactly what the server lets you: your tenants' cost, or, if you may list all
namespaces, every tenant's with the unattributed and idle remainders. Prints only; the figures are the
server's.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from kubetenancy.cli.tenants_view import table
from kubetenancy.k8s.passthrough import Passthrough

PATH = "/apis/showback.kubetenancy.dev/v1alpha1/tenantcosts"
Object = dict[str, Any]
COSTS = ("cpu", "ram", "gpu", "storage", "total")
HOURS = ("cpuCoreHours", "ramGiBHours", "gpuHours", "storageGiBHours")


class Output(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Refused(Exception):
    """The API server (or the aggregated API behind it) said no; the message is its own."""


async def read(kubeconfig: Path | None, window: str, resolution: str, tenant: str | None) -> list[Object]:
    api = Passthrough(kubeconfig)
    try:
        path = f"{PATH}/{tenant}" if tenant else PATH
        code, answer = await api.request("GET", path, params={"window": window, "resolution": resolution})
    finally:
        await api.close()
    if code == 404 and not tenant:
        raise Refused(
            "error: the showback.kubetenancy.dev API is not served here: is kubetenancy's aggregated API running?"
        )
    if code != 200:
        raise Refused(f"Error from server ({answer.get('reason', code)}): {answer.get('message', '')}")
    return [answer] if tenant else list(answer.get("items") or [])


def _money(value: float) -> str:
    return f"{value:.4f}"


def as_table(items: list[Object], *, by_namespace: bool) -> str:
    """One row per tenant (and remainder), or per namespace; a last row with the sum of the rows."""
    rows: list[tuple[str, ...]] = []
    totals = dict.fromkeys(COSTS, 0.0)
    for item in items:
        lines = [(ns["name"], ns["cost"]) for ns in item["namespaces"]] if by_namespace else [("", item["cost"])]
        if by_namespace and not lines:
            lines = [("", item["cost"])]
        for namespace, cost in lines:
            rows.append(
                (
                    item["metadata"]["name"],
                    *([namespace] if by_namespace else []),
                    *map(_money, (cost[k] for k in COSTS)),
                )
            )
        for key in COSTS:
            totals[key] += item["cost"][key]
    headers = ("TENANT", *(["NAMESPACE"] if by_namespace else []), "CPU", "MEMORY", "GPU", "STORAGE", "TOTAL")
    if not rows:
        return "No costs found: you are a member of no tenant, or nothing ran in the window"
    window = items[0]["window"]
    rows.append(("TOTAL", *([""] if by_namespace else []), *map(_money, (totals[k] for k in COSTS))))
    return f"{table(headers, rows)}\n\nwindow {window['duration']} ({window['start']} .. {window['end']})"


def as_csv(items: list[Object]) -> str:
    """One row per namespace (and per remainder without namespaces): the rows add up to what you may see."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["tenant", "namespace", "window_start", "window_end", *HOURS, *(f"{k}_cost" for k in COSTS)])
    for item in items:
        window = item["window"]
        lines = item["namespaces"] or [{"name": "", "usage": item["usage"], "cost": item["cost"]}]
        for line in lines:
            usage, cost = line["usage"], line["cost"]
            writer.writerow(
                [item["metadata"]["name"], line["name"], window["start"], window["end"],
                 *(usage[k] for k in HOURS), *(cost[k] for k in COSTS)]
            )  # fmt: skip
    return out.getvalue().rstrip("\n")


def showback(
    window: Annotated[str, typer.Option(help="How far back, as Prometheus writes durations (7d, 24h, 90m).")] = "7d",
    tenant: Annotated[str | None, typer.Option(help="Only this tenant, per namespace.")] = None,
    output: Annotated[Output, typer.Option("--output", "-o", help="table, csv or json.")] = Output.table,
    resolution: Annotated[str, typer.Option(help="How often usage is sampled within the window.")] = "1m",
    kubeconfig: Annotated[Path | None, typer.Option("--kubeconfig", help="Kubeconfig (default: $KUBECONFIG).")] = None,
) -> None:
    """What your tenants cost over a window: CPU and memory (max of request and usage), GPUs and requested
    storage, priced with the IntegrationConfig's showback prices."""
    try:
        items = asyncio.run(read(kubeconfig, window, resolution, tenant))
    except Refused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    if output is Output.json:
        typer.echo(json.dumps(items[0] if tenant else {"items": items}, indent=2))
    elif output is Output.csv:
        typer.echo(as_csv(items))
    else:
        typer.echo(as_table(items, by_namespace=tenant is not None))
