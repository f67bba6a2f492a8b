"""The aggregated API under load: filtered lists and watches of Spaces (issue 5 states no targets; these
are the figures its closing note reports).

Workloads, with A accounts of S spaces each (one user per account):
1. `GET spaces` as an account user (sees S), as the cluster admin (sees all), and, as the floor,
   `GET namespaces` straight from the API server; sequential requests, latency in ms.
2. W users each hold a watch on Spaces; namespaces are created for one account at a time. Per event:
   time until its user's watch delivers it; and the events the other W-1 watches received (must be 0).
3. The aggregated server's RSS with all of it in place.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.support.waiting import eventually

from bench.harness import apply_all, cluster, rss_mb, summary
from kubetenancy.k8s import Identity, Kube
from kubetenancy.k8s.passthrough import Passthrough

SPACES = "/apis/tenancy.kiosk.sh/v1alpha1/spaces"
ACCOUNT_API = "config.kiosk.sh/v1alpha1"


def _account(i: int) -> dict[str, Any]:
    return {
        "apiVersion": ACCOUNT_API,
        "kind": "Account",
        "metadata": {"name": f"acc{i}"},
        "spec": {"subjects": [{"kind": "User", "name": f"user{i}", "apiGroup": "rbac.authorization.k8s.io"}]},
    }


def _space(account: int, index: int) -> dict[str, Any]:
    labels = {"kiosk.sh/account": f"acc{account}"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"acc{account}-s{index}", "labels": labels}}


async def _latencies(api: Passthrough, path: str, identity: Identity | None, requests: int) -> dict[str, float]:
    values = []
    for _ in range(requests):
        began = time.perf_counter()
        code, answer = await api.request("GET", path, identity=identity)
        assert code == 200, answer
        values.append((time.perf_counter() - began) * 1000)
    return summary(values)


async def _run(accounts: int, spaces: int, watchers: int, requests: int) -> dict[str, Any]:
    with cluster(with_operator=True, with_apiserver=True) as setup:
        async with Kube(setup.cluster.kubeconfig()) as kube:
            api = Passthrough(setup.cluster.kubeconfig())
            try:
                await apply_all(kube, [_account(i) for i in range(accounts)], 8)
                await apply_all(kube, [_space(a, s) for a in range(accounts) for s in range(spaces)], 8)

                async def all_listed() -> bool:
                    code, listing = await api.request("GET", SPACES, identity=Identity(f"user{accounts - 1}"))
                    return code == 200 and len(listing["items"]) == spaces

                await eventually(all_listed, within=120)

                async def settled() -> bool:  # the operator has bound every account's role in its spaces
                    listed = await kube.list(ACCOUNT_API, "Account")
                    return all(len((a.get("status") or {}).get("namespaces") or []) == spaces for a in listed)

                await eventually(settled, within=300)
                lists = {
                    "account_user_ms": await _latencies(api, SPACES, Identity("user0"), requests),
                    "cluster_admin_ms": await _latencies(api, SPACES, None, requests),
                    "namespaces_floor_ms": await _latencies(api, "/api/v1/namespaces", None, requests),
                }
                watch = await _watch_fan_out(api, watchers, rounds=20)
                assert setup.apiserver is not None
                return {
                    "accounts": accounts,
                    "namespaces": accounts * spaces,
                    "list": lists,
                    "watch": watch,
                    "apiserver_rss_mb": rss_mb(setup.apiserver),
                }
            finally:
                await api.close()


async def _watch_fan_out(api: Passthrough, watchers: int, rounds: int) -> dict[str, Any]:
    arrivals: dict[str, float] = {}
    foreign: list[str] = []

    async def watch(user: int) -> None:
        async for event in api.watch(SPACES, {}, identity=Identity(f"user{user}")):
            name = event["object"]["metadata"].get("name", "")
            if event["type"] == "ADDED" and name.startswith("fan-"):
                if name.startswith(f"fan-{user}-"):
                    arrivals[name] = time.perf_counter()
                else:
                    foreign.append(name)

    tasks = [asyncio.create_task(watch(user)) for user in range(watchers)]
    await asyncio.sleep(2)  # let every watch be established
    delays = []
    for i in range(rounds):
        user = i % watchers
        name = f"fan-{user}-{i}"
        labels = {"kiosk.sh/account": f"acc{user}"}
        began = time.perf_counter()
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
        code, created = await api.request("POST", "/api/v1/namespaces", body=namespace)
        assert code == 201, created

        async def delivered(name: str = name) -> bool:
            return name in arrivals

        await eventually(delivered, within=30)
        delays.append((arrivals[name] - began) * 1000)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"watchers": watchers, "delivery_ms": summary(delays), "events_to_other_users": len(foreign)}


def run(*, quick: bool) -> dict[str, Any]:
    if quick:
        return asyncio.run(_run(accounts=20, spaces=5, watchers=10, requests=30))
    return asyncio.run(_run(accounts=200, spaces=5, watchers=50, requests=100))
