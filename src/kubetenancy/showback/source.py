"""Run showback's queries against a Prometheus HTTP API and price the answers.

The only I/O of showback: instant queries (`GET /api/v1/query`) at the window's end, one per query of
`queries.Queries`. It never talks to the Kubernetes API: who holds which namespace comes from the operator's
metric in the same Prometheus, and the prices are given.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import aiohttp

from kubetenancy.component_model import PriceList
from kubetenancy.showback.allocation import ResourceHours, Showback, showback
from kubetenancy.showback.queries import Queries

TIMEOUT_SECONDS = 60.0


class PrometheusError(RuntimeError):
    """Prometheus could not be reached or refused a query; the message names the query and the answer."""


async def instant(session: aiohttp.ClientSession, url: str, promql: str, at: float) -> list[dict[str, Any]]:
    """The result vector of `promql` evaluated at `at` (unix seconds)."""
    try:
        async with session.get(f"{url}/api/v1/query", params={"query": promql, "time": f"{at:.3f}"}) as response:
            answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise PrometheusError(f"Prometheus at {url} did not answer the query {promql}: {error}") from error
    if answer.get("status") != "success":
        raise PrometheusError(f"Prometheus at {url} refused the query {promql}: {answer.get('error', answer)}")
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def _by_namespace(result: list[dict[str, Any]]) -> dict[str, float]:
    return {sample["metric"].get("namespace", ""): float(sample["value"][1]) for sample in result}


def _scalar(result: list[dict[str, Any]]) -> float:
    return sum(float(sample["value"][1]) for sample in result)


def owners_of(result: list[dict[str, Any]]) -> dict[str, str]:
    """Each namespace's tenant: the one that held it last (the latest timestamp) in the window."""
    latest: dict[str, tuple[float, str]] = {}
    for sample in result:
        namespace, tenant, seen = sample["metric"]["namespace"], sample["metric"]["tenant"], float(sample["value"][1])
        if seen >= latest.get(namespace, (float("-inf"), ""))[0]:
            latest[namespace] = (seen, tenant)
    return {namespace: tenant for namespace, (_, tenant) in latest.items()}


def allocated(answers: Mapping[str, list[dict[str, Any]]]) -> dict[str, ResourceHours]:
    per = {name: _by_namespace(answers[name]) for name in ("cpu", "ram", "gpu", "storage")}
    namespaces = sorted({namespace for values in per.values() for namespace in values})
    return {
        namespace: ResourceHours(*(per[name].get(namespace, 0.0) for name in ("cpu", "ram", "gpu", "storage")))
        for namespace in namespaces
    }


async def read(url: str, queries: Queries, prices: PriceList, end: float | None = None) -> Showback:
    """The showback of the window ending at `end` (default: now) from the Prometheus at `url`."""
    at = time.time() if end is None else end
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as session:
        named = queries.all()
        results = await asyncio.gather(*(instant(session, url, promql, at) for promql in named.values()))
    answers = dict(zip(named, results, strict=True))
    capacity = ResourceHours(_scalar(answers["capacity_cpu"]), _scalar(answers["capacity_ram"]))
    return showback(allocated(answers), capacity, owners_of(answers["owners"]), prices)
