"""One list and one watch per resource for the whole server, feeding every caller's watch.

Without it each caller's watch opened its own watch on the API server and held its own copy of every
object: with W watchers, W watches upstream and W copies here. The informer keeps one copy of the
objects and remembers its recent changes, each with the object it replaced, so a caller's watch can
start from any version the informer still remembers — typically that of the list the client just
made — with exactly the objects the client holds at that version. A watch from an older version (the
client's list came from before this server started, say) is told so (`subscribe` returns None) and
is served by an upstream watch of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from kubetenancy.k8s.passthrough import Passthrough

Object = dict[str, Any]
log = logging.getLogger(__name__)
HISTORY = 10_000
"""Changes remembered: a watch may start this many changes back."""
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Change:
    version: int
    """The resource version this change brought the informer to (the list's for a relist's changes)."""
    type: str
    """ADDED, MODIFIED, DELETED or BOOKMARK."""
    obj: Object
    previous: Object | None
    """The object it replaced (None: it did not exist)."""


def version_of(obj: Object) -> int:
    return int((obj.get("metadata") or {}).get("resourceVersion") or 0)


class Subscription:
    """A place in the informer's stream of changes; `close()` it when done."""

    def __init__(self, known: dict[str, Object], queue: asyncio.Queue[Change], informer: Informer) -> None:
        self.known = known
        """The objects, by name, as they were at the version the watch starts from."""
        self._queue = queue
        self._informer = informer

    async def changes(self) -> AsyncIterator[Change]:
        while True:
            yield await self._queue.get()

    def close(self) -> None:
        self._informer.unsubscribe(self._queue)


class Informer:
    def __init__(self, api: Passthrough, path: str) -> None:
        self.api = api
        self.path = path
        self.objects: dict[str, Object] = {}
        self.version = 0
        self._history: deque[Change] = deque(maxlen=HISTORY)
        self._oldest: int | None = None
        """From this version on, every change is in the history (None: not listed yet)."""
        self._queues: set[asyncio.Queue[Change]] = set()
        self._listed = asyncio.Event()

    async def listed(self) -> None:
        await self._listed.wait()

    async def run(self) -> None:
        """List, then watch from the list's version; list again whenever the watch ends or fails."""
        while True:
            try:
                code, listing = await self.api.request("GET", self.path)
                if code != 200:
                    log.warning("listing %s failed (%s); retrying", self.path, listing.get("message"))
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                self._relisted(listing)
                self._listed.set()
                params = {"resourceVersion": str(self.version), "allowWatchBookmarks": "true"}
                async for event in self.api.watch(self.path, params):
                    if event["type"] == "ERROR":  # typically 410 Gone: the version is too old to watch from
                        break
                    self._record(event["type"], event["object"], version_of(event["object"]))
            except (OSError, ValueError) as error:
                log.warning("following %s failed (%s); retrying", self.path, error)
                await asyncio.sleep(RETRY_SECONDS)

    def _relisted(self, listing: Object) -> None:
        """Take a fresh list; what changed since the last one reaches open watches as changes."""
        version = int(listing["metadata"]["resourceVersion"])
        fresh = {item["metadata"]["name"]: item for item in listing.get("items") or []}
        for name, gone in list(self.objects.items()):
            if name not in fresh:
                self._record("DELETED", gone, version)
        for name, obj in fresh.items():
            old = self.objects.get(name)
            if old is None or version_of(old) != version_of(obj):
                self._record("MODIFIED" if old else "ADDED", obj, version)
        # The changes between the old watch's end and this list are not known one by one.
        self._history.clear()
        self._oldest = self.version = version

    def _record(self, kind: str, obj: Object, version: int) -> None:
        name = obj.get("metadata", {}).get("name", "")
        previous = self.objects.get(name)
        if kind == "DELETED":
            self.objects.pop(name, None)
        elif kind != "BOOKMARK":
            self.objects[name] = obj
        self.version = max(self.version, version)
        change = Change(version, kind, obj, previous)
        if kind != "BOOKMARK":
            self._history.append(change)
            if len(self._history) == self._history.maxlen:
                self._oldest = self._history[0].version
        for queue in self._queues:
            queue.put_nowait(change)

    def subscribe(self, since: int | None) -> Subscription | None:
        """Changes after version `since` (None: every object as ADDED, then changes), or None if `since`
        is older than what the informer remembers. Call after `listed()`."""
        if since is not None and (self._oldest is None or since < self._oldest):
            return None
        known = dict(self.objects)  # the objects are shared, never changed in place: only the dict is copied
        replay: list[Change] = []
        if since is None:
            replay = [Change(self.version, "ADDED", obj, None) for obj in known.values()]
            known = {}
        else:
            for change in reversed(self._history):
                if change.version <= since:
                    break
                name = change.obj["metadata"]["name"]
                if change.previous is None:
                    known.pop(name, None)
                else:
                    known[name] = change.previous
                replay.append(change)
            replay.reverse()
        queue: asyncio.Queue[Change] = asyncio.Queue()
        for change in replay:
            queue.put_nowait(change)
        self._queues.add(queue)
        return Subscription(known, queue, self)

    def unsubscribe(self, queue: asyncio.Queue[Change]) -> None:
        self._queues.discard(queue)
