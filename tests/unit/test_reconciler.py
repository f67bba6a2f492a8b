"""The reconciler skeleton: one pass at a time per key, coalesced requests, re-read, retry, one status write."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest

from kubetenancy.reconciling import RETRIED, FailedPass, Reconciler


def cr(name: str, generation: int = 1, status: dict[str, Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "x/v1", "kind": "Thing", "metadata": {"name": name, "generation": generation}}
    if status is not None:
        obj["status"] = status
    return obj


class Harness:
    """A reconciler over an in-memory store of objects, recording passes and status writes."""

    def __init__(self, *, failures: int = 0) -> None:
        self.store: dict[str, dict[str, Any]] = {}
        self.passes: list[tuple[str, int, frozenset[str]]] = []
        self.writes: list[dict[str, Any]] = []
        self.reads = 0
        self.running: set[str] = set()
        self.failures = failures
        self.gate = asyncio.Event()
        self.gate.set()
        self.reconciler: Reconciler[str] = Reconciler("thing", self.read, self.work, self.write)

    async def read(self, name: str) -> dict[str, Any] | None:
        self.reads += 1
        return self.store.get(name)

    async def work(self, name: str, obj: dict[str, Any], flags: frozenset[str]) -> dict[str, Any] | None:
        assert name not in self.running, "two passes of one key at once"
        self.running.add(name)
        try:
            await self.gate.wait()
            self.passes.append((name, obj["metadata"]["generation"], flags))
            if self.failures:
                self.failures -= 1
                raise httpx2.ConnectError("the API server is away")
            return {"observedGeneration": obj["metadata"]["generation"]}
        finally:
            self.running.discard(name)

    async def write(self, obj: dict[str, Any], patch: dict[str, Any]) -> None:
        self.writes.append(patch)
        live = self.store[obj["metadata"]["name"]]
        live["status"] = {**live.get("status", {}), **patch}


async def test_requests_made_during_a_pass_are_served_by_one_more_pass() -> None:
    harness = Harness()
    harness.store["a"] = cr("a")
    harness.gate.clear()
    first = asyncio.create_task(harness.reconciler.run("a", cr("a")))
    await asyncio.sleep(0)
    later = [asyncio.create_task(harness.reconciler.run("a", cr("a", generation=g), "why")) for g in (2, 3, 4)]
    harness.store["a"] = cr("a", generation=4)
    await asyncio.sleep(0)
    harness.gate.set()
    await asyncio.gather(first, *later)
    # One more pass for the three, on the object as it is now: the first pass's status write made the
    # delivered bodies stale, so it was read again.
    assert harness.passes == [("a", 1, frozenset()), ("a", 4, frozenset({"why"}))]
    assert harness.reads == 1


async def test_the_delivered_body_is_used_and_an_unchanged_status_not_written() -> None:
    harness = Harness()
    harness.store["a"] = cr("a")
    await harness.reconciler.run("a", cr("a"))
    assert (harness.reads, harness.writes) == (0, [{"observedGeneration": 1}])
    await harness.reconciler.run("a", cr("a", status={"observedGeneration": 1}))
    assert harness.reads == 0
    assert len(harness.writes) == 1


async def test_transient_errors_are_retried_with_a_fresh_read() -> None:
    harness = Harness(failures=1)
    harness.store["a"] = cr("a", generation=2)
    await harness.reconciler.run("a", cr("a"))
    assert harness.passes == [("a", 1, frozenset()), ("a", 2, frozenset({RETRIED}))]


async def test_a_failed_pass_writes_its_status_once_then_fails() -> None:
    async def fail(name: str, obj: dict[str, Any], flags: frozenset[str]) -> dict[str, Any] | None:
        raise FailedPass({"reason": "Broken"}, ValueError("broken"))

    harness = Harness()
    harness.store["a"] = cr("a")
    reconciler: Reconciler[str] = Reconciler("thing", harness.read, fail, harness.write)
    with pytest.raises(ValueError, match="broken"):
        await reconciler.run("a", cr("a"))
    assert harness.writes == [{"reason": "Broken"}]


async def test_objects_being_deleted_or_gone_get_no_pass() -> None:
    harness = Harness()
    deleting = cr("a")
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    await harness.reconciler.run("a", deleting)
    await harness.reconciler.run("gone")
    assert harness.passes == []
