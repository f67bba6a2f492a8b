"""Reading and writing the cluster as the logged-in user: every request carries that user's own token.

The console has no identity of its own towards the API server. What a user may not read is not an
error of the page: the API server's own message (`tenants.tenantoperator.stakater.com is forbidden: User
"falcon@nordmart.com" cannot list resource ...`) is kept and shown where that data would be. Namespaces
come from the API server's list when the user may list them, else from Kiosk's Spaces (the aggregated
API shows each user the namespaces of their tenants).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubetenancy.frontdoors.claims import namespace_owner
from kubetenancy.k8s import Object
from kubetenancy.k8s.passthrough import Passthrough, Unreachable

TENANTS = "/apis/tenantoperator.stakater.com/v1beta3/tenants"
QUOTAS = "/apis/tenantoperator.stakater.com/v1beta1/quotas"
NAMESPACES = "/api/v1/namespaces"
SPACES = "/apis/tenancy.kiosk.sh/v1alpha1/spaces"
ACCOUNTS = "/apis/tenancy.kiosk.sh/v1alpha1/accounts"
ROLE_REQUESTS = "/apis/lib.projectsveltos.io/v1beta1/rolerequests"
INSTANCE_APIS = {
    "tenantoperator.stakater.com/v1alpha1": "/apis/tenantoperator.stakater.com/v1alpha1",
    "config.kiosk.sh/v1alpha1": "/apis/config.kiosk.sh/v1alpha1",
}
PARALLEL = 16


def _message(status: Object) -> str:
    return str(status.get("message") or f"the API server answered {status.get('code')}")


def namespaced(prefix: str, namespace: str | None, plural: str) -> str:
    return f"{prefix}/namespaces/{namespace}/{plural}" if namespace else f"{prefix}/{plural}"


@dataclass
class Listing:
    items: list[Object]
    denied: str | None = None


class UserApi:
    """The API server, as the bearer of one token."""

    def __init__(self, api: Passthrough, token: str) -> None:
        self._api = api
        self._token = token
        self._limit = asyncio.Semaphore(PARALLEL)

    async def request(
        self, method: str, path: str, body: Any = None, params: Mapping[str, str] | None = None
    ) -> tuple[int, Object]:
        async with self._limit:
            try:
                return await self._api.request(method, path, body=body, params=params, token=self._token)
            except Unreachable as error:
                return 503, {"kind": "Status", "code": 503, "message": f"the API server cannot be reached: {error}"}

    async def list(self, path: str, params: Mapping[str, str] | None = None) -> Listing:
        code, answer = await self.request("GET", path, params=params)
        if code != 200:
            return Listing([], _message(answer))
        return Listing(list(answer.get("items") or []))

    async def get(self, path: str) -> tuple[Object | None, str | None]:
        code, answer = await self.request("GET", path)
        return (answer, None) if code == 200 else (None, _message(answer))

    async def create(self, path: str, body: Object) -> str | None:
        """None when created, else the API server's (or its webhook's) message."""
        code, answer = await self.request("POST", path, body=body)
        return None if code in (200, 201) else _message(answer)

    async def whoami(self) -> tuple[str, tuple[str, ...]] | None:
        """Who the API server takes this token for (a SelfSubjectReview), or None if it is not valid."""
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        code, answer = await self.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=review)
        if code not in (200, 201):
            return None
        info = (answer.get("status") or {}).get("userInfo") or {}
        return str(info.get("username", "")), tuple(info.get("groups") or ())


@dataclass
class Snapshot:
    """Everything the pages draw from, as one user sees it."""

    tenants: Listing
    accounts: Listing
    namespaces: Listing
    quotas: list[Object]
    instances: dict[str, list[Object]]
    denials: list[str] = field(default_factory=list)
    namespaces_from_spaces: bool = False

    @property
    def namespace_names(self) -> list[str]:
        return sorted(n["metadata"]["name"] for n in self.namespaces.items)


async def visible_namespaces(user: UserApi) -> tuple[Listing, bool]:
    """The namespaces of tenants (all of them for whoever may list namespaces, else the user's Spaces)."""
    listing = await user.list(NAMESPACES)
    if listing.denied is None:
        return listing, False
    spaces = await user.list(SPACES)
    if spaces.denied is not None:
        return Listing([], f"{listing.denied}; {spaces.denied}"), True
    return spaces, True


async def _per_namespace(
    user: UserApi, prefix: str, plural: str, namespaces: Sequence[str]
) -> tuple[list[Object], list[str]]:
    """A cluster-wide list if allowed, else one list per namespace (what a tenant member may do)."""
    everything = await user.list(f"{prefix}/{plural}")
    if everything.denied is None:
        wanted = set(namespaces)
        return [o for o in everything.items if o["metadata"].get("namespace") in wanted], []
    listings = await asyncio.gather(*(user.list(namespaced(prefix, ns, plural)) for ns in namespaces))
    items = [item for listing in listings for item in listing.items]
    return items, sorted({listing.denied for listing in listings if listing.denied})


async def snapshot(user: UserApi, *, with_instances: bool = True) -> Snapshot:
    tenants, accounts, (namespaces, from_spaces) = await asyncio.gather(
        user.list(TENANTS), user.list(ACCOUNTS), visible_namespaces(user)
    )
    names = sorted(n["metadata"]["name"] for n in namespaces.items)
    if tenants.denied is not None:
        # A member may be allowed to read their own Tenant without listing them all.
        owners = sorted({o for n in namespaces.items if (o := namespace_owner(n["metadata"].get("labels") or {}))})
        found = await asyncio.gather(*(user.get(f"{TENANTS}/{owner}") for owner in owners))
        tenants = Listing(
            [obj for obj, _ in found if obj is not None], None if any(o for o, _ in found) else tenants.denied
        )
    quotas, denials = await _per_namespace(user, "/api/v1", "resourcequotas", names)
    instances: dict[str, list[Object]] = {}
    if with_instances:
        for api, prefix in INSTANCE_APIS.items():
            instances[api], denied = await _per_namespace(user, prefix, "templateinstances", names)
            denials += denied
    if namespaces.denied:
        denials.append(namespaces.denied)
    return Snapshot(tenants, accounts, namespaces, quotas, instances, denials, from_spaces)
