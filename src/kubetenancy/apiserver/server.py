"""The HTTP side of the aggregated API: who is calling, routing, content negotiation, watch streams.

Only the API server's front proxy may call: it presents a client certificate signed by the
requestheader CA, with a name the API server allows, and states the caller in the requestheader
headers (all read from `kube-system/extension-apiserver-authentication`, as Kubernetes' own
aggregated servers do). The API server has already authorized the request against `tenancy.kiosk.sh`
RBAC; this server narrows what each caller sees.
"""

from __future__ import annotations

import contextlib
import json
import logging
import ssl
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from kubetenancy.apiserver import discovery, objects
from kubetenancy.apiserver.objects import Served
from kubetenancy.apiserver.views import ApiStatusError
from kubetenancy.apiserver.visibility import Caller
from kubetenancy.apiserver.watching import Event

Object = dict[str, Any]
BASE = f"/apis/{objects.API_VERSION}"
OPENAPI_V3 = "/openapi/v3" + BASE
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrontProxy:
    """How the API server's front proxy identifies itself and the caller."""

    client_ca_pem: str
    allowed_names: tuple[str, ...]
    username_headers: tuple[str, ...]
    group_headers: tuple[str, ...]

    @classmethod
    def from_configmap(cls, data: Mapping[str, str]) -> FrontProxy:
        def names(key: str, default: list[str]) -> tuple[str, ...]:
            return tuple(json.loads(data[key]) if data.get(key) else default)

        return cls(
            client_ca_pem=data["requestheader-client-ca-file"],
            allowed_names=names("requestheader-allowed-names", []),
            username_headers=names("requestheader-username-headers", ["X-Remote-User"]),
            group_headers=names("requestheader-group-headers", ["X-Remote-Group"]),
        )

    def context(self, cert_file: str, key_file: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=self.client_ca_pem)
        context.load_cert_chain(cert_file, key_file)
        context.verify_mode = ssl.CERT_OPTIONAL  # health probes come without a certificate
        return context

    def caller(self, request: web.Request) -> Caller:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        names = [value for rdn in (peer or {}).get("subject", ()) for key, value in rdn if key == "commonName"]
        if not peer or (self.allowed_names and not set(names) & set(self.allowed_names)):
            raise ApiStatusError(objects.status(401, "Unauthorized", "only the API server's front proxy may call"))
        user = next((request.headers[h] for h in self.username_headers if request.headers.get(h)), "")
        if not user:
            raise ApiStatusError(objects.status(401, "Unauthorized", "the front proxy named no user"))
        groups = tuple(g for h in self.group_headers for g in request.headers.getall(h, []))
        return Caller(user, groups)


class Resource(Protocol):
    served: Served

    async def list(self, caller: Caller, params: Mapping[str, str]) -> tuple[list[Object], str]: ...
    async def watch(self, caller: Caller, params: Mapping[str, str]) -> AsyncGenerator[Event]: ...
    async def get(self, caller: Caller, name: str) -> Object: ...
    async def create(self, caller: Caller, body: Object, params: Mapping[str, str]) -> Object: ...
    async def update(self, caller: Caller, name: str, body: Object, params: Mapping[str, str]) -> Object: ...
    async def patch(self, caller: Caller, name: str, patch: Object, params: Mapping[str, str]) -> Object: ...
    async def delete(self, caller: Caller, name: str, params: Mapping[str, str]) -> Object: ...


def _json(obj: Object, status: int = 200) -> web.Response:
    return web.json_response(obj, status=status)


def _table_wanted(request: web.Request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


class AggregatedApi:
    def __init__(self, front_proxy: FrontProxy, resources: list[Resource]) -> None:
        self.front_proxy = front_proxy
        self.resources = {r.served.plural: r for r in resources}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/healthz", self._ok),
            web.get("/readyz", self._ok),
            web.get("/livez", self._ok),
            web.get("/apis", self._discovery(discovery.api_group_list)),
            web.get(f"/apis/{objects.GROUP}", self._discovery(discovery.api_group)),
            web.get(BASE, self._discovery(discovery.api_resource_list)),
            web.get("/openapi/v2", self._discovery(discovery.openapi_v2)),
            web.get("/openapi/v3", self._discovery(lambda: discovery.openapi_v3_paths(OPENAPI_V3))),
            web.get(OPENAPI_V3, self._discovery(discovery.openapi_v3)),
            web.route("*", BASE + "/{resource}", self._collection),
            web.route("*", BASE + "/{resource}/{name}", self._item),
        ]

    async def _ok(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")

    def _discovery(self, document: Any) -> Any:
        async def serve(request: web.Request) -> web.Response:
            try:
                self.front_proxy.caller(request)
            except ApiStatusError as error:
                return _json(error.status, error.status["code"])
            return _json(document())

        return serve

    def _resource(self, request: web.Request) -> Resource:
        resource = self.resources.get(request.match_info["resource"])
        if resource is None:
            message = f"the server could not find the requested resource ({request.match_info['resource']})"
            raise ApiStatusError(objects.status(404, "NotFound", message))
        return resource

    async def _collection(self, request: web.Request) -> web.StreamResponse:
        try:
            caller = self.front_proxy.caller(request)
            resource = self._resource(request)
            params = dict(request.query)
            if request.method == "GET" and params.get("watch") in ("true", "1"):
                return await self._watch(request, resource, caller, params)
            if request.method == "GET":
                items, version = await resource.list(caller, params)
                return self._shown(request, resource.served, items, version, as_list=True)
            if request.method == "POST":
                created = await resource.create(caller, await request.json(), params)
                return _json(created, 201)
            raise ApiStatusError(objects.status(405, "MethodNotAllowed", f"{request.method} is not supported here"))
        except ApiStatusError as error:
            return _json(error.status, int(error.status.get("code") or 500))

    async def _item(self, request: web.Request) -> web.StreamResponse:
        try:
            caller = self.front_proxy.caller(request)
            resource = self._resource(request)
            name, params = request.match_info["name"], dict(request.query)
            if request.method == "GET":
                obj = await resource.get(caller, name)
                return self._shown(request, resource.served, [obj], obj["metadata"].get("resourceVersion", ""))
            if request.method == "PUT":
                return _json(await resource.update(caller, name, await request.json(), params))
            if request.method == "PATCH":
                if request.content_type == "application/json-patch+json":
                    message = "JSON patches are not supported here: use a merge patch (kubectl patch --type merge)"
                    raise ApiStatusError(objects.status(415, "UnsupportedMediaType", message))
                return _json(await resource.patch(caller, name, await request.json(), params))
            if request.method == "DELETE":
                return _json(await resource.delete(caller, name, params))
            raise ApiStatusError(objects.status(405, "MethodNotAllowed", f"{request.method} is not supported here"))
        except ApiStatusError as error:
            return _json(error.status, int(error.status.get("code") or 500))

    def _shown(
        self, request: web.Request, served: Served, items: list[Object], version: str, *, as_list: bool = False
    ) -> web.Response:
        if _table_wanted(request):
            return _json(objects.table(served, items, version, request.query.get("includeObject", "Metadata")))
        return _json(objects.as_list(served, items, version) if as_list else items[0])

    async def _watch(
        self, request: web.Request, resource: Resource, caller: Caller, params: dict[str, str]
    ) -> web.StreamResponse:
        table = _table_wanted(request)
        include = request.query.get("includeObject", "Metadata")
        events = await resource.watch(caller, params)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        event: Event
        async with contextlib.aclosing(events):  # a client that goes away ends its watch here and now
            async for event in events:
                kind, obj = event
                if table and kind not in ("ERROR", "BOOKMARK"):
                    obj = objects.table(resource.served, [obj], obj["metadata"].get("resourceVersion", ""), include)
                await response.write(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
        await response.write_eof()
        return response
