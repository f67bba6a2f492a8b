"""Who belongs to which tenant, kept current from the informers of Kiosk Accounts and MTO Tenants.

Each custom resource goes through its API's front door into the one tenancy model, so visibility is
decided the same way for both APIs. Readers get the current models and can wait for the next change.
This module reads; it writes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kubetenancy.apiserver.informer import Informer
from kubetenancy.frontdoors.table import KIOSK_ACCOUNT, TENANTS, TenantDoor
from kubetenancy.model import Tenant

log = logging.getLogger(__name__)

DOORS: dict[str, TenantDoor] = {door.served.path(): door for door in TENANTS}
"""The tenant kinds' collections, each with its front door."""
ACCOUNTS = KIOSK_ACCOUNT.served.path()


class Membership:
    def __init__(self, *informers: Informer) -> None:
        """`informers`: one per tenant kind (the keys of DOORS)."""
        self.informers = informers
        self._tenants: dict[str, dict[str, Tenant]] = {informer.path: {} for informer in informers}
        self._loaded: dict[str, asyncio.Event] = {informer.path: asyncio.Event() for informer in informers}
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
        await asyncio.gather(*(self._follow(informer) for informer in self.informers))

    async def _follow(self, informer: Informer) -> None:
        """Each custom resource through its API's front door, from the informer's objects and changes."""
        door = DOORS[informer.path]
        await informer.listed()
        subscription = informer.subscribe(informer.version)
        assert subscription is not None  # the informer remembers its own version
        try:
            tenants = {}
            for obj in subscription.known.values():
                if (tenant := _model(door, obj)) is not None:
                    tenants[tenant.name] = tenant
            await self._publish(informer.path, tenants)
            self._loaded[informer.path].set()
            async for change in subscription.changes():
                if change.type == "BOOKMARK":
                    continue
                name = change.obj["metadata"]["name"]
                tenants = dict(self._tenants[informer.path])
                tenants.pop(name, None)
                tenant = None if change.type == "DELETED" else _model(door, change.obj)
                if tenant is not None:
                    tenants[name] = tenant
                await self._publish(informer.path, tenants)
        finally:
            subscription.close()


def _model(door: TenantDoor, obj: dict[str, Any]) -> Tenant | None:
    try:
        return door.read(obj)
    except ValueError as error:
        log.warning("ignoring %s: %s", obj["metadata"]["name"], error)
        return None
