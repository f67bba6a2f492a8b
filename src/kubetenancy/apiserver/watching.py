"""A caller's watch: the API server's events for one resource, filtered to what the caller may see.

An object the caller may not see never appears in their watch — not even as a deletion. When an object
becomes visible (its labels moved, or the caller joined its tenant) the caller gets ADDED; when it stops
being visible, DELETED. Memberships are re-evaluated as soon as they change, not only on the object's
next event. The resource versions are the API server's own, so a client resumes where it left off.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from kubetenancy.apiserver.membership import Membership
from kubetenancy.k8s.passthrough import Passthrough

Object = dict[str, Any]
Event = tuple[str, Object]
MEMBERSHIP_CHANGED = "membership-changed"


async def filtered(
    api: Passthrough,
    path: str,
    params: Mapping[str, str],
    visible: Callable[[Object], bool],
    known: dict[str, Object],
    membership: Membership,
) -> AsyncIterator[Event]:
    """Relay the watch at `path`; `known` are the objects the client already holds (from its list)."""
    queue: asyncio.Queue[Object | str | None] = asyncio.Queue()

    async def upstream() -> None:
        try:
            async for event in api.watch(path, params):
                await queue.put(event)
        finally:
            await queue.put(None)

    async def memberships() -> None:
        version = membership.version
        while True:
            version = await membership.changed_since(version)
            await queue.put(MEMBERSHIP_CHANGED)

    shown = {name for name, obj in known.items() if visible(obj)}
    tasks = [asyncio.create_task(upstream()), asyncio.create_task(memberships())]
    try:
        while (item := await queue.get()) is not None:
            if item == MEMBERSHIP_CHANGED:
                for name, obj in known.items():
                    if visible(obj) != (name in shown):
                        shown.symmetric_difference_update({name})
                        yield ("ADDED" if name in shown else "DELETED"), obj
                continue
            assert isinstance(item, dict)
            kind, obj = item["type"], item["object"]
            if kind in ("ERROR", "BOOKMARK"):
                yield kind, obj
                if kind == "ERROR":
                    return
                continue
            name = obj["metadata"]["name"]
            if kind == "DELETED":
                known.pop(name, None)
                if name in shown:
                    shown.discard(name)
                    yield "DELETED", obj
                continue
            known[name] = obj
            if visible(obj):
                yield (kind if name in shown else "ADDED"), obj
                shown.add(name)
            elif name in shown:
                shown.discard(name)
                yield "DELETED", obj
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
