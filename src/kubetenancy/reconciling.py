"""The one reconciler skeleton: keyed work, one pass at a time per key, coalesced requests, re-read, retry
with backoff, status written once per pass.

Tenants, template instances, RoleRequests and ClusterProfiles are all reconciled through it; their
modules supply only the pass (business logic: the object in, its next status out). What it guarantees:

- **One pass at a time per key**; passes of different keys run concurrently.
- **Coalescing**: requests made while a key's pass runs (or waits) are served by one next pass, which
  gets the newest object an event delivered and the union of the requests' flags; their callers return
  when that pass is done.
- **Re-read**: the pass works on the object its event delivered, unless this skeleton wrote the object's
  status since (then that body is stale: it is read again), or none was delivered.
- **Retry**: transient API errors (`RETRYABLE_ERRORS`) are retried with exponential backoff, re-reading
  the object and with the flag `RETRIED`; kopf does not retry event handlers, so it is done here.
- **Status once per pass**: the pass returns the next status (or raises `FailedPass` carrying it); it is
  written as one merge patch, only when it differs from the object's current status.

It knows no API and no model: it must not decide anything about what it reconciles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from prometheus_client import Counter

from kubetenancy.k8s import RETRYABLE_ERRORS, Kube

K = TypeVar("K", bound=Hashable)
Obj = dict[str, Any]
RETRIED = "retried"
"""The flag a pass gets when it retries after a transient error."""
ATTEMPTS = 4
PASSES = Counter("kubetenancy_reconciler_passes", "Passes of the reconciler skeleton", ["reconciler", "outcome"])
log = logging.getLogger(__name__)


class FailedPass(Exception):
    """The pass failed after deciding the object's status: the status is written, then `cause` raised."""

    def __init__(self, status: Mapping[str, Any], cause: Exception) -> None:
        super().__init__(str(cause))
        self.status = status
        self.cause = cause


def merge_patch(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON merge patch turning `current` into `wanted` (null removes a key); {} when they are equal."""
    patch: dict[str, Any] = {key: None for key in current if key not in wanted}
    for key, value in wanted.items():
        old = current.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            nested = merge_patch(old, value)
            if nested:
                patch[key] = nested
        elif key not in current or old != value:
            patch[key] = value
    return patch


@dataclass
class _Pending:
    """The next pass of a key, shared by every request made before it starts."""

    body: Obj | None
    writes: int
    flags: set[str] = field(default_factory=set)
    done: bool = False


Read = Callable[[K], Awaitable[Obj | None]]
Work = Callable[[K, Obj, frozenset[str]], Awaitable[Mapping[str, Any] | None]]
WriteStatus = Callable[[Obj, dict[str, Any]], Awaitable[None]]
"""Writes a merge patch to the status of the object given."""


def status_writer(kube: Kube) -> WriteStatus:
    """Status patches through the API server's status subresource."""

    async def write(obj: Obj, patch: dict[str, Any]) -> None:
        meta = obj["metadata"]
        await kube.patch_status(obj["apiVersion"], obj["kind"], meta["name"], patch, meta.get("namespace"))

    return write


class Reconciler(Generic[K]):
    def __init__(
        self, name: str, read: Read[K], work: Work[K], write_status: WriteStatus, *, skip_deleting: bool = True
    ) -> None:
        """`read`: the object of a key as the API server has it now (None: gone). `work`: one pass over
        it, returning its next status (None: leave the status alone). `write_status`: how a status patch
        is written. `skip_deleting`: objects being deleted get no pass (their owner references clean up);
        off for those with a finalizer."""
        self.name = name
        self._write = write_status
        self._read = read
        self._work = work
        self._skip_deleting = skip_deleting
        self._locks: defaultdict[K, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._pending: dict[K, _Pending] = {}
        self._writes: defaultdict[K, int] = defaultdict(int)

    async def run(self, key: K, body: Obj | None = None, *flags: str) -> None:
        """Request a pass over `key` and wait until a pass that started after this request is done.

        `body`: the object as an event delivered it (spares a read); `flags` tell the pass why it runs.
        """
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(body, self._writes[key])
        elif body is not None:
            pending.body, pending.writes = body, self._writes[key]
        pending.flags.update(flags)
        async with self._locks[key]:
            if pending.done:
                return  # served by a pass another request started
            if self._pending.get(key) is pending:
                del self._pending[key]  # requests from now on wait for the next pass
            pending.done = True
            await self._attempts(key, pending)

    @contextlib.asynccontextmanager
    async def exclusive(self, key: K) -> AsyncIterator[None]:
        """Hold `key` as a pass does: for work on its objects outside a pass (drift repair)."""
        async with self._locks[key]:
            yield

    async def _attempts(self, key: K, pending: _Pending) -> None:
        body = pending.body if pending.writes == self._writes[key] else None
        flags = frozenset(pending.flags)
        for attempt in range(ATTEMPTS):
            try:
                await self._pass(key, body, flags)
                return
            except RETRYABLE_ERRORS as error:
                if attempt == ATTEMPTS - 1:
                    PASSES.labels(self.name, "failed").inc()
                    raise
                log.warning("%s %s: %s; retrying", self.name, key, error)
            body, flags = None, flags | {RETRIED}
            await asyncio.sleep(2**attempt)

    async def _pass(self, key: K, body: Obj | None, flags: frozenset[str]) -> None:
        if body is None:
            body = await self._read(key)
        if body is None or (self._skip_deleting and body["metadata"].get("deletionTimestamp")):
            PASSES.labels(self.name, "gone").inc()
            return
        try:
            status = await self._work(key, body, flags)
        except FailedPass as failed:
            await self._write_status(key, body, failed.status)
            raise failed.cause from None
        if status is not None:
            await self._write_status(key, body, status)
        PASSES.labels(self.name, "done").inc()

    async def _write_status(self, key: K, body: Obj, status: Mapping[str, Any]) -> None:
        patch = merge_patch(body.get("status") or {}, status)
        if patch:
            await self._write(body, patch)
            self._writes[key] += 1

    def forget(self, key: K) -> None:
        """The object is gone: drop what was kept for its key."""
        self._writes.pop(key, None)
        if not self._locks[key].locked():
            del self._locks[key]
