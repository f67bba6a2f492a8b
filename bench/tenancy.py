"""Tenant convergence vs the physical limit, admission overhead, quota under contention, steady state.

Workloads (issue 7):
1. N Tenants applied at once (2 namespaces, a Quota, owners/editors/viewers each); time until all are
   Ready, against a baseline script that writes exactly the operator's objects with the same concurrency.
2. Creating ConfigMaps and Pods in a tenant namespace (our webhooks), in a namespace served by a no-op
   webhook with the same registration (`bench.floor`: the floor), and in a plain namespace with the same
   ResourceQuota, at 1, 10 and 50 concurrent clients, in one run.
3. 200 parallel pod creates against a tenant-wide quota with room for 50.
4. With N tenants Ready: API writes while nothing changes, operator RSS, and an operator restart.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.waiting import eventually

from bench import floor
from bench.harness import (
    WRITE_VERBS,
    Setup,
    apply_all,
    cluster,
    quota,
    summary,
    tenant,
    wait_for_service_accounts,
    wait_ready,
)
from kubetenancy.desired import tenant_objects
from kubetenancy.frontdoors.tenantoperator import quota_from_cr, tenant_from_cr
from kubetenancy.k8s import ApiError, Kube
from kubetenancy.localcluster.processes import free_port, port_is_listening, spawn, wait_until
from kubetenancy.model import ClusterPolicy

CONCURRENCY = 8
ALL_VERBS = (*WRITE_VERBS, "get", "list")


async def _operator_convergence(n: int) -> dict[str, float]:
    with cluster(with_operator=True) as setup:
        async with Kube(setup.cluster.kubeconfig()) as kube:
            await kube.apply(quota("bench", {"pods": "100", "configmaps": "100"}))
            names = [f"t{i}" for i in range(n)]
            before = setup.api_requests(*ALL_VERBS)
            began = time.monotonic()
            await apply_all(kube, [tenant(name, "bench") for name in names], CONCURRENCY)
            await wait_ready(kube, names, within=60 + n)
            seconds = time.monotonic() - began
            return {"seconds": seconds, "requests_per_tenant": (setup.api_requests(*ALL_VERBS) - before) / n}


async def _baseline_convergence(n: int) -> float:
    bench_quota = quota_from_cr("bench", quota("bench", {"pods": "100", "configmaps": "100"})["spec"])
    objects = [
        tenant_objects(tenant_from_cr(name, tenant(name, "bench")["spec"], bench_quota), ClusterPolicy(), None)
        for name in (f"t{i}" for i in range(n))
    ]
    with cluster(with_operator=False) as setup:
        async with Kube(setup.cluster.kubeconfig()) as kube:
            began = time.monotonic()

            async def one_tenant(items: list[dict[str, Any]]) -> None:
                await apply_all(kube, [o for o in items if o["kind"] == "Namespace"], CONCURRENCY)
                await apply_all(kube, [o for o in items if o["kind"] != "Namespace"], CONCURRENCY)

            await asyncio.gather(*(one_tenant(items) for items in objects))
            return time.monotonic() - began


def convergence(sizes: list[int]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for n in sizes:
        operator = asyncio.run(_operator_convergence(n))
        baseline = asyncio.run(_baseline_convergence(n))
        results[str(n)] = {
            "operator_s": operator["seconds"],
            "baseline_s": baseline,
            "ratio": operator["seconds"] / baseline,
            "api_requests_per_tenant": operator["requests_per_tenant"],
        }
    return results


async def _latencies(kube: Kube, kind: str, namespace: str, count: int, clients: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    limit = asyncio.Semaphore(clients)

    async def one(i: int) -> None:
        nonlocal errors
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": {"name": f"{kind.lower()}-{clients}-{i}", "namespace": namespace},
        }
        if kind == "Pod":
            body["spec"] = {"containers": [{"name": "c", "image": "nginx"}]}
        async with limit:
            began = time.perf_counter()
            try:
                await kube.create(body)
            except ApiError:
                errors += 1
            latencies.append((time.perf_counter() - began) * 1000)

    await asyncio.gather(*(one(i) for i in range(count)))
    return latencies, errors


async def _admission(count: int) -> dict[str, Any]:
    with cluster(with_operator=True) as setup, floor_webhook(setup) as floor_port:
        async with Kube(setup.cluster.kubeconfig()) as kube:
            hard = {"pods": "100000", "configmaps": "100000"}
            await kube.apply(quota("roomy", hard))
            await kube.apply(tenant("bench", "roomy"))
            await wait_ready(kube, ["bench"], within=60)
            for configuration in floor.registration(floor_port, setup.workdir / "floor-certs", frozenset(hard)):
                await kube.apply(configuration)
            for name, labels in (("plain", {}), ("floor", {floor.FLOOR_LABEL: "true"})):
                namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
                await kube.apply(namespace)
                await kube.apply(
                    {
                        "apiVersion": "v1",
                        "kind": "ResourceQuota",
                        "metadata": {"name": "q", "namespace": name},
                        "spec": {"hard": hard},
                    }
                )
            await wait_for_service_accounts(kube, ["bench-dev", "plain", "floor"])
            results: dict[str, Any] = {}
            for kind in ("ConfigMap", "Pod"):
                for clients in (1, 10, 50):
                    tenant_ms, tenant_errors = await _latencies(kube, kind, "bench-dev", count, clients)
                    floor_ms, floor_errors = await _latencies(kube, kind, "floor", count, clients)
                    plain_ms, plain_errors = await _latencies(kube, kind, "plain", count, clients)
                    ours, noop, plain = summary(tenant_ms), summary(floor_ms), summary(plain_ms)
                    results[f"{kind}@{clients}"] = {
                        "tenant_ms": ours,
                        "floor_ms": noop,
                        "plain_ms": plain,
                        "p99_overhead_ms": ours["p99"] - plain["p99"],
                        "p50_overhead_ms": ours["median"] - plain["median"],
                        "floor_p99_overhead_ms": noop["p99"] - plain["p99"],
                        "errors": tenant_errors + floor_errors + plain_errors,
                    }
            results["server_side_mean_ms"] = {
                webhook: 1000
                * setup.metric("kubetenancy_admission_seconds_sum", webhook=webhook)
                / max(setup.metric("kubetenancy_admission_seconds_count", webhook=webhook), 1)
                for webhook in ("tenant-quota-reserve.kubetenancy.dev", "tenant-quota-settle.kubetenancy.dev")
            }
            return results


@contextmanager
def floor_webhook(setup: Setup) -> Iterator[int]:
    """The no-op webhook (`bench.floor`) running beside the operator; yields its port."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.floor", "--port", str(port), "--cert-dir", setup.workdir / "floor-certs"]
    argv += ["--client-ca", setup.cluster.webhook_client_ca]  # requires the API server's certificate, as ours does
    process = spawn("bench-floor", argv, setup.workdir / "floor.log")
    try:
        wait_until(process, lambda: port_is_listening(port), 30, "the no-op webhook")
        yield port
    finally:
        process.stop()


def admission(count: int) -> dict[str, Any]:
    return asyncio.run(_admission(count))


async def _contention(creates: int, room: int) -> dict[str, Any]:
    with cluster(with_operator=True) as setup:
        async with Kube(setup.cluster.kubeconfig()) as kube:
            await kube.apply(quota("tight", {"pods": str(room)}))
            spec = tenant("tight", "tight")
            spec["spec"]["namespaces"] = {"withTenantPrefix": ["a", "b", "c"]}
            await kube.apply(spec)
            await wait_ready(kube, ["tight"], within=60)
            await wait_for_service_accounts(kube, ["tight-a", "tight-b", "tight-c"])
            latencies: list[float] = []
            admitted = 0

            async def one(i: int) -> None:
                nonlocal admitted
                body = {
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": f"p{i}", "namespace": f"tight-{'abc'[i % 3]}"},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                }  # fmt: skip
                began = time.perf_counter()
                try:
                    await kube.create(body)
                    admitted += 1
                except ApiError:
                    pass
                latencies.append((time.perf_counter() - began) * 1000)

            await asyncio.gather(*(one(i) for i in range(creates)))
            return {"creates": creates, "room": room, "admitted": admitted, "latency_ms": summary(latencies)}


def contention() -> dict[str, Any]:
    return asyncio.run(_contention(200, 50))


async def _steady(n: int, window: float) -> dict[str, Any]:
    with cluster(with_operator=True) as setup:
        async with Kube(setup.cluster.kubeconfig()) as kube:
            await kube.apply(quota("bench", {"pods": "100"}))
            names = [f"t{i}" for i in range(n)]
            await apply_all(kube, [tenant(name, "bench") for name in names], CONCURRENCY)
            await wait_ready(kube, names, within=60 + n)
            await asyncio.sleep(2)  # let the last status events come back
            before = setup.api_requests(*WRITE_VERBS)
            await asyncio.sleep(window)
            idle_writes = setup.api_requests(*WRITE_VERBS) - before
            rss = setup.operator_rss_mb()
            began = time.monotonic()
            setup.restart_operator()

            async def rechecked() -> bool:
                return setup.reconciles("unchanged") + setup.reconciles("applied") >= n

            await eventually(rechecked, 120)
            recheck = time.monotonic() - began
            return {
                "tenants": n,
                "idle_writes_per_minute": idle_writes * 60 / window,
                "operator_rss_mb": rss,
                "restart_recheck_s": recheck,
                "restart_writes": setup.api_requests(*WRITE_VERBS),
                "restart_applied": setup.reconciles("applied"),
            }


def steady(n: int, window: float) -> dict[str, Any]:
    return asyncio.run(_steady(n, window))


__all__ = ["admission", "contention", "convergence", "steady"]
