"""Who belongs to which tenant, kept current by watching Kiosk Accounts and MTO Tenants.

Each custom resource goes through its API's front door into the one tenancy model, so visibility is
decided the same way for both APIs. Readers get the current models and can wait for the next change.
This module reads; it writes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from kubetenancy.frontdoors.kiosk import account_from_cr
from kubetenancy.frontdoors.tenantoperator import tenant_from_cr
from kubetenancy.k8s.passthrough import Passthrough
from kubetenancy.model import Tenant

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0

FrontDoor = Callable[[str, Mapping[str, Any]], Tenant]
ACCOUNTS = "/apis/config.kiosk.sh/v1alpha1/accounts"
SOURCES: tuple[tuple[str, FrontDoor], ...] = (
    (ACCOUNTS, lambda name, spec: account_from_cr(name, spec, None)),
    ("/apis/tenantoperator.stakater.com/v1beta3/tenants", lambda name, spec: tenant_from_cr(name, spec, None)),
)


class Membership:
    def __init__(self, api: Passthrough) -> None:
        self.api = api
        self._tenants: dict[str, dict[str, Tenant]] = {path: {} for path, _ in SOURCES}
        self._loaded: dict[str, asyncio.Event] = {path: asyncio.Event() for path, _ in SOURCES}
        self._changed = asyncio.Condition()
        self.version = 0
        self.tenants: dict[str, Tenant] = {}
        """Every tenant of every API, by name (replaced, never changed in place, on each change)."""

    @property
    def accounts(self) -> dict[str, Tenant]:
        """Only the Kiosk accounts."""
        return dict(self._tenants[ACCOUNTS])

    async def loaded(self) -> None:
        await asyncio.gather(*(event.wait() for event in self._loaded.values()))

    async def changed_since(self, version: int) -> int:
        """Wait until the models changed after `version`; return the new version."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.version != version)
            return self.version

    async def _publish(self, path: str, tenants: dict[str, Tenant]) -> None:
        if tenants != self._tenants[path]:
            self._tenants[path] = tenants
            self.tenants = {name: t for source in self._tenants.values() for name, t in source.items()}
            async with self._changed:
                self.version += 1
                self._changed.notify_all()

    async def run(self) -> None:
        await asyncio.gather(*(self._follow(path, door) for path, door in SOURCES))

    async def _follow(self, path: str, door: FrontDoor) -> None:
        """List, then watch from the list's version; start over whenever the watch ends or fails."""
        while True:
            try:
                code, listing = await self.api.request("GET", path)
                if code != 200:
                    log.warning("listing %s failed (%s); retrying", path, listing.get("message"))
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                tenants = {}
                for item in listing.get("items") or []:
                    tenant = _model(door, item)
                    if tenant is not None:
                        tenants[tenant.name] = tenant
                await self._publish(path, tenants)
                self._loaded[path].set()
                version = listing["metadata"]["resourceVersion"]
                async for event in self.api.watch(path, {"resourceVersion": version, "allowWatchBookmarks": "true"}):
                    if event["type"] == "ERROR":
                        break
                    if event["type"] == "BOOKMARK":
                        continue
                    name = event["object"]["metadata"]["name"]
                    tenants = dict(self._tenants[path])
                    tenants.pop(name, None)
                    tenant = None if event["type"] == "DELETED" else _model(door, event["object"])
                    if tenant is not None:
                        tenants[name] = tenant
                    await self._publish(path, tenants)
            except (OSError, ValueError) as error:
                log.warning("following %s failed (%s); retrying", path, error)
                await asyncio.sleep(RETRY_SECONDS)


def _model(door: FrontDoor, obj: dict[str, Any]) -> Tenant | None:
    try:
        return door(obj["metadata"]["name"], obj.get("spec") or {})
    except ValidationError as error:
        log.warning("ignoring %s: %s", obj["metadata"]["name"], error)
        return None
