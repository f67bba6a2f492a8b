"""Reading a resource of the aggregated API: list, get and watch over the API server's objects, each
filtered to what the caller may see. Writes are each resource's own (spaces.py, accounts.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from kubetenancy.apiserver import objects
from kubetenancy.apiserver.access import AccessReviews
from kubetenancy.apiserver.informer import Informer
from kubetenancy.apiserver.membership import Membership
from kubetenancy.apiserver.objects import Served
from kubetenancy.apiserver.selectors import SelectorError, selected
from kubetenancy.apiserver.visibility import Caller
from kubetenancy.apiserver.watching import Event, filtered, upstream
from kubetenancy.k8s.passthrough import Passthrough

Object = dict[str, Any]
PASSED_ON = ("labelSelector", "fieldSelector", "resourceVersion", "resourceVersionMatch", "timeoutSeconds",
             "allowWatchBookmarks")  # fmt: skip
"""Query parameters that mean the same for the view as for the objects behind it."""


class ApiStatusError(Exception):
    """Answer the client with this Status (its `code` is the HTTP status)."""

    def __init__(self, status: Object) -> None:
        super().__init__(status.get("message", ""))
        self.status = status


class FilteredView:
    """The objects at `path`, shown as `served`, to callers who may see them."""

    def __init__(
        self,
        served: Served,
        informer: Informer,
        admin_resource: tuple[str, str],
        api: Passthrough,
        access: AccessReviews,
        membership: Membership,
    ) -> None:
        self.served = served
        self.informer = informer
        """The objects for every caller's watch; `run()` by whoever runs the server."""
        self.path = informer.path
        self.admin_resource = admin_resource
        """(group, resource) whose cluster-wide list right lets a caller see every object."""
        self.api = api
        self.access = access
        self.membership = membership

    # -- what each resource says ----------------------------------------------------------------

    def visible(self, caller: Caller, obj: Object) -> bool:
        raise NotImplementedError

    def show(self, obj: Object) -> Object:
        raise NotImplementedError

    # -- reading --------------------------------------------------------------------------------

    async def sees_all(self, caller: Caller) -> bool:
        group, resource = self.admin_resource
        return await self.access.allowed(caller, "list", group, resource)

    async def _filter(self, caller: Caller) -> Callable[[Object], bool]:
        if await self.sees_all(caller):
            return lambda _: True
        return lambda obj: self.visible(caller, obj)

    async def _upstream_list(self, params: Mapping[str, str]) -> Object:
        code, listing = await self.api.request("GET", self.path, params=params)
        if code != 200:
            raise ApiStatusError(listing)
        return listing

    async def list(self, caller: Caller, params: Mapping[str, str]) -> tuple[list[Object], str]:
        passed = {k: v for k, v in params.items() if k in PASSED_ON}
        listing = await self._upstream_list(passed)
        visible = await self._filter(caller)
        items = [self.show(item) for item in listing.get("items") or [] if visible(item)]
        return items, listing["metadata"].get("resourceVersion", "")

    async def get(self, caller: Caller, name: str) -> Object:
        return self.show(await self.get_raw(caller, name))

    async def get_raw(self, caller: Caller, name: str) -> Object:
        """The stored object, if the caller may see it; NotFound otherwise (existence is not leaked)."""
        code, obj = await self.api.request("GET", f"{self.path}/{name}")
        if code == 404:
            raise ApiStatusError(objects.not_found(self.served, name))
        if code != 200:
            raise ApiStatusError(obj)
        if not (await self._filter(caller))(obj):
            raise ApiStatusError(objects.not_found(self.served, name))
        return obj

    async def watch(self, caller: Caller, params: Mapping[str, str]) -> AsyncGenerator[Event]:
        """Check and prepare the watch (errors surface here, before any event), then relay its events.

        The shared informer serves it when it still remembers the version asked for; otherwise (the
        client listed before this server started, say) an upstream watch of its own does."""
        passed = {k: v for k, v in params.items() if k in PASSED_ON}
        try:
            wanted = selected(passed)
        except SelectorError as error:
            raise ApiStatusError(objects.status(400, "BadRequest", str(error))) from None
        may_see = await self._filter(caller)
        since = _version(passed.get("resourceVersion", ""))

        def visible(obj: Object) -> bool:
            return wanted(obj) and may_see(obj)

        return self._relay(passed, since, visible)

    async def _relay(
        self, params: Mapping[str, str], since: int | None, visible: Callable[[Object], bool]
    ) -> AsyncGenerator[Event]:
        await self.informer.listed()
        subscription = self.informer.subscribe(since)
        if subscription is not None:
            changes, known = subscription.changes(), subscription.known
        else:
            # The client holds a list from that version: learn what it holds, so that what leaves its view
            # is reported as deleted.
            selectors = {k: v for k, v in params.items() if k in ("labelSelector", "fieldSelector")}
            try:
                listing = await self._upstream_list(selectors)
            except ApiStatusError as error:
                yield "ERROR", error.status
                return
            known = {item["metadata"]["name"]: item for item in listing.get("items") or []}
            changes = upstream(self.api, self.path, params)
        bookmarks = params.get("allowWatchBookmarks") == "true"
        try:
            async with asyncio.timeout(_seconds(params.get("timeoutSeconds"))):
                async for kind, obj in filtered(changes, visible, known, self.membership, since or 0):
                    if kind == "ERROR":
                        yield kind, obj
                    elif kind == "BOOKMARK":
                        if bookmarks:
                            yield kind, self._bookmark(obj)
                    else:
                        yield kind, self.show(obj)
        except TimeoutError:
            return  # timeoutSeconds: the watch ends, as the API server ends it
        finally:
            if subscription is not None:
                subscription.close()

    def _bookmark(self, obj: Object) -> Object:
        metadata = {"resourceVersion": obj.get("metadata", {}).get("resourceVersion", "")}
        return {"apiVersion": objects.API_VERSION, "kind": self.served.kind, "metadata": metadata}


def _version(value: str) -> int | None:
    """The version a watch starts after; None ("" or "0"): from the current objects, each as ADDED."""
    if value in ("", "0"):
        return None
    if not value.isdigit():
        message = f"invalid resource version {value!r}: resource versions are whole numbers"
        raise ApiStatusError(objects.status(400, "BadRequest", message))
    return int(value)


def _seconds(value: str | None) -> float | None:
    return float(value) if value and value.isdigit() and int(value) > 0 else None
