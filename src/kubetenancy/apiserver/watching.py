"""A caller's watch: a stream of changes to one resource, filtered to what the caller may see.

An object the caller may not see never appears in their watch — not even as a deletion. When an object
becomes visible (its labels moved, or the caller joined its tenant) the caller gets ADDED; when it stops
being visible, DELETED. Memberships are re-evaluated as soon as they change, not only on the object's
next event. The resource versions are the API server's own, so a client resumes where it left off.
The changes come from the server's shared informer or, for a watch from an older version, from an
upstream watch of its own (`upstream`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from kubetenancy.apiserver.informer import Change, version_of
from kubetenancy.apiserver.membership import Membership
from kubetenancy.k8s.passthrough import Passthrough

Object = dict[str, Any]
Event = tuple[str, Object]
MEMBERSHIP_CHANGED = "membership-changed"


async def upstream(api: Passthrough, path: str, params: Mapping[str, str]) -> AsyncIterator[Change]:
    """The API server's own watch at `path`, as changes."""
    async for event in api.watch(path, params):
        yield Change(version_of(event["object"]), event["type"], event["object"], None)


async def filtered(
    changes: AsyncIterator[Change],
    visible: Callable[[Object], bool],
    known: dict[str, Object],
    membership: Membership,
    after: int = 0,
) -> AsyncIterator[Event]:
    """Relay `changes`; `known` are the objects the client already holds (from its list). Changes up to
    version `after` are the client's already: they update what it holds, and are not sent."""
    queue: asyncio.Queue[Change | str | None] = asyncio.Queue()

    async def relay() -> None:
        try:
            async for change in changes:
                await queue.put(change)
        finally:
            await queue.put(None)

    async def memberships() -> None:
        version = membership.version
        while True:
            version = await membership.changed_since(version)
            await queue.put(MEMBERSHIP_CHANGED)

    shown = {name for name, obj in known.items() if visible(obj)}
    tasks = [asyncio.create_task(relay()), asyncio.create_task(memberships())]
    try:
        while (item := await queue.get()) is not None:
            if item == MEMBERSHIP_CHANGED:
                for name, obj in known.items():
                    if visible(obj) != (name in shown):
                        shown.symmetric_difference_update({name})
                        yield ("ADDED" if name in shown else "DELETED"), obj
                continue
            assert isinstance(item, Change)
            kind, obj, told = item.type, item.obj, item.version > after
            if kind in ("ERROR", "BOOKMARK"):
                if told or kind == "ERROR":
                    yield kind, obj
                if kind == "ERROR":
                    return
                continue
            name = obj["metadata"]["name"]
            if kind == "DELETED":
                known.pop(name, None)
                if name in shown:
                    shown.discard(name)
                    if told:
                        yield "DELETED", obj
                continue
            known[name] = obj
            if visible(obj):
                if told:
                    yield (kind if name in shown else "ADDED"), obj
                shown.add(name)
            elif name in shown:
                shown.discard(name)
                if told:
                    yield "DELETED", obj
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
