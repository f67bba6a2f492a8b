"""The one place that talks to a Kubernetes API server.

`Kube` wraps lightkube's async client: objects go in and come out as plain dicts (what our pure
`desired` functions return), writes are server-side applies under kubetenancy's field manager, and a
client can act as another user through impersonation headers (as `kubectl --as` does). A client is made
from a kubeconfig file or from one held in memory (a managed cluster's, read from a Secret).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx2
from lightkube import ALL_NS, ApiError, AsyncClient, KubeConfig, codecs
from lightkube.config import client_adapter
from lightkube.config.models import User
from lightkube.core.exceptions import ConfigError, LoadResourceError
from lightkube.core.resource import NamespacedResource, Resource
from lightkube.generic_resource import (
    async_load_in_cluster_generic_resources,
    create_global_resource,
    create_namespaced_resource,
)
from lightkube.resources.core_v1 import ServiceAccount
from lightkube.types import PatchType
from prometheus_client import Counter

from kubetenancy.api import SERVED_CRDS

__all__ = [
    "CONFIG_ERRORS",
    "FIELD_MANAGER",
    "RETRYABLE_ERRORS",
    "ApiError",
    "Identity",
    "Kube",
    "Object",
    "explain",
    "register_custom_resource",
]

FIELD_MANAGER = "kubetenancy"
MAX_IN_FLIGHT = 32
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (ApiError, httpx2.TransportError)
CONFIG_ERRORS: tuple[type[Exception], ...] = (ConfigError,)
"""A kubeconfig that cannot be found or used (no file, no current context)."""
"""What a caller may retry later: answers of the API server, and connections that failed."""
APPLIED_HASH = "kubetenancy.dev/applied-hash"
API_REQUESTS = Counter("kubetenancy_api_requests", "Requests this process made to the API server", ["verb"])
RETRIES_ON_429 = 10

T = TypeVar("T")


async def _retrying(call: Callable[[], Awaitable[T]], limit: asyncio.Semaphore) -> T:
    """Retry what the API server asks to retry (429, e.g. while a new CRD's storage initialises).

    `limit` bounds the requests in flight: beyond it callers queue here instead of timing out while
    waiting for one of the connection pool's connections.
    """
    for attempt in range(RETRIES_ON_429):
        try:
            async with limit:
                return await call()
        except ApiError as error:
            if error.status.code != 429 or attempt == RETRIES_ON_429 - 1:
                raise
            details = error.status.details
            await asyncio.sleep(min(float(details.retryAfterSeconds or 1) if details else 1.0, 5.0))
    raise AssertionError("unreachable")


Object = dict[str, Any]


@dataclass(frozen=True)
class Identity:
    """Who to act as: a user name and its groups (sent as Impersonate-User / Impersonate-Group)."""

    user: str
    groups: Sequence[str] = field(default_factory=tuple)


class _Impersonating(httpx2.AsyncBaseTransport):
    """Adds impersonation headers to every request before the TLS transport sends it."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, identity: Identity) -> None:
        self._inner = inner
        self._identity = identity

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        headers = [(k, v) for k, v in request.headers.multi_items() if not k.lower().startswith("impersonate-")]
        headers.append(("Impersonate-User", self._identity.user))
        headers += [("Impersonate-Group", group) for group in self._identity.groups]
        request.headers = httpx2.Headers(headers)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def register_custom_resource(group: str, version: str, kind: str, plural: str, *, namespaced: bool) -> None:
    """Teach the codec a custom resource kind so `apply`/`get` accept its dicts."""
    factory = create_namespaced_resource if namespaced else create_global_resource
    factory(group, version, kind, plural)


def _register_served_kinds() -> None:
    for versions in SERVED_CRDS:
        for served in versions:
            register_custom_resource(
                served.group, served.version, served.kind, served.plural, namespaced=served.namespaced
            )


_register_served_kinds()  # every client knows the kinds kubetenancy serves


def resource_class(api_version: str, kind: str) -> Any:
    """The lightkube class of a kind (typed Any: lightkube's methods are generic over concrete classes)."""
    try:
        loaded: type[Resource] = codecs.resource_registry.load(api_version, kind)
    except LoadResourceError as error:
        raise KeyError(
            f"unknown kind {kind} in {api_version}: register custom resources with register_custom_resource"
        ) from error
    return loaded


def _known(api_version: str, kind: str) -> bool:
    try:
        resource_class(api_version, kind)
    except KeyError:
        return False
    return True


class Kube:
    """An async client for one cluster, optionally impersonating someone."""

    def __init__(
        self,
        kubeconfig: Path | Mapping[str, Any] | None = None,
        *,
        identity: Identity | None = None,
        token: str | None = None,
        timeout: float | None = None,
    ) -> None:
        """`kubeconfig`: a file, or a parsed kubeconfig; `token` replaces the kubeconfig user's credentials
        (e.g. an EKS token); `timeout` bounds each request in seconds (lightkube's default is 10)."""
        if isinstance(kubeconfig, Mapping):
            config = KubeConfig.from_dict(dict(kubeconfig))
        else:
            config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
        single = config.get()
        if single is not None and token is not None:
            single = single._replace(user=User(token=token))
        if single is None:
            where = "the kubeconfig given" if isinstance(kubeconfig, Mapping) else kubeconfig or "$KUBECONFIG"
            raise ValueError(f"{where} has no current context")
        transport = None
        if identity is not None:
            assert single.user is not None, "the kubeconfig names no user"
            verify = client_adapter.verify_cluster(single.cluster, single.user, single.abs_file)
            transport = _Impersonating(httpx2.AsyncHTTPTransport(verify=verify), identity)
        self.server = single.cluster.server
        self.client = AsyncClient(
            single,
            field_manager=FIELD_MANAGER,
            transport=transport,
            lazy=True,
            timeout=httpx2.Timeout(timeout) if timeout is not None else None,
        )
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def __aenter__(self) -> Kube:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.client.aclose()

    async def learn_kinds(self, objects: Sequence[Mapping[str, Any]]) -> None:
        """Make sure every object's kind is known, reading the cluster's CRDs if one is not (KeyError if still not)."""
        unknown = [o for o in objects if not _known(o["apiVersion"], o["kind"])]
        if unknown:
            API_REQUESTS.labels("list").inc()
            await _retrying(lambda: async_load_in_cluster_generic_resources(self.client), self._in_flight)
        for obj in unknown:
            resource_class(obj["apiVersion"], obj["kind"])

    async def apply(self, obj: Mapping[str, Any], *, force: bool = True) -> Object:
        """Server-side apply `obj` as kubetenancy's field manager and return the object as stored."""
        resource = codecs.from_dict(dict(obj))
        API_REQUESTS.labels("apply").inc()
        applied = await _retrying(lambda: self.client.apply(resource, force=force), self._in_flight)
        return _to_dict(applied)

    async def apply_if_changed(self, obj: Mapping[str, Any]) -> bool:
        """Apply unless the live object was applied from the same content (one GET, no write). True if written."""
        digest = hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:32]
        meta = obj["metadata"]
        live = await self.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        if live is not None and (live["metadata"].get("annotations") or {}).get(APPLIED_HASH) == digest:
            return False
        annotations = {**(meta.get("annotations") or {}), APPLIED_HASH: digest}
        await self.apply({**obj, "metadata": {**meta, "annotations": annotations}})
        return True

    async def replace(self, obj: Mapping[str, Any]) -> Object:
        """PUT the whole object; its resourceVersion makes this fail (409) if someone changed it since."""
        API_REQUESTS.labels("replace").inc()
        replaced = await _retrying(lambda: self.client.replace(codecs.from_dict(dict(obj))), self._in_flight)
        return _to_dict(replaced)

    async def create(self, obj: Mapping[str, Any]) -> Object:
        """Create; reviews (SelfSubjectReview, TokenReview, ...) are counted as reviews: they store nothing."""
        API_REQUESTS.labels("review" if obj["kind"].endswith("Review") else "create").inc()
        created = await _retrying(lambda: self.client.create(codecs.from_dict(dict(obj))), self._in_flight)
        return _to_dict(created)

    async def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Object | None:
        """The object, or None when it does not exist."""
        API_REQUESTS.labels("get").inc()
        try:
            found = await _retrying(
                lambda: self.client.get(resource_class(api_version, kind), name, namespace=namespace), self._in_flight
            )
        except ApiError as error:
            if error.status.code == 404:
                return None
            raise
        return _to_dict(found)

    async def list(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[Object]:
        resource = resource_class(api_version, kind)
        if namespace is None and issubclass(resource, NamespacedResource):
            namespace = ALL_NS  # lightkube would otherwise list only the kubeconfig's namespace

        API_REQUESTS.labels("list").inc()

        async def collect() -> list[Object]:
            listing = self.client.list(
                resource,
                namespace=namespace,
                labels=labels,  # type: ignore[arg-type]
            )
            return [_to_dict(item) async for item in listing]

        return await _retrying(collect, self._in_flight)

    async def patch(
        self, api_version: str, kind: str, name: str, patch: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        """Merge-patch the object (one write); a None value removes that key. Put metadata.resourceVersion in
        `patch` to make it conditional (409 if the object changed since)."""
        API_REQUESTS.labels("patch").inc()
        patched = await _retrying(
            lambda: self.client.patch(
                resource_class(api_version, kind), name, dict(patch), namespace=namespace, patch_type=PatchType.MERGE
            ),
            self._in_flight,
        )
        return _to_dict(patched)

    async def patch_status(
        self, api_version: str, kind: str, name: str, status: Mapping[str, Any], namespace: str | None = None
    ) -> Object:
        """Merge-patch the status subresource (one write)."""
        API_REQUESTS.labels("patch-status").inc()
        patched = await _retrying(
            lambda: self.client.patch(
                resource_class(api_version, kind).Status,
                name,
                {"status": dict(status)},
                namespace=namespace,
                patch_type=PatchType.MERGE,
            ),
            self._in_flight,
        )
        return _to_dict(patched)

    async def request_token(self, namespace: str, service_account: str, expiration_seconds: int) -> tuple[str, str]:
        """A TokenRequest for a ServiceAccount: (token, expirationTimestamp in RFC 3339)."""
        API_REQUESTS.labels("create").inc()
        request = ServiceAccount.Token.from_dict(
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "metadata": {"name": service_account, "namespace": namespace},
                "spec": {"audiences": [], "expirationSeconds": expiration_seconds},
            }
        )
        created = await _retrying(
            lambda: self.client.create(request, service_account, namespace=namespace), self._in_flight
        )
        status = _to_dict(created)["status"]
        return status["token"], status["expirationTimestamp"]

    async def server_version(self) -> str:
        """The API server's Kubernetes version (GET /version), e.g. v1.36.3."""
        API_REQUESTS.labels("get").inc()
        # lightkube has no call for /version: ask its HTTP client, which carries the credentials and TLS setup.
        http = self.client._client._client
        response = await _retrying(lambda: http.get("/version"), self._in_flight)
        response.raise_for_status()
        version: str = response.json()["gitVersion"]
        return version

    async def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete the object; False when it was already gone."""
        API_REQUESTS.labels("delete").inc()
        try:
            await _retrying(
                lambda: self.client.delete(resource_class(api_version, kind), name, namespace=namespace),
                self._in_flight,
            )
        except ApiError as error:
            if error.status.code == 404:
                return False
            raise
        return True


def explain(error: BaseException) -> str:
    """What went wrong talking to an API server, for a status message (the server's own words if it answered)."""
    if isinstance(error, ApiError):
        return error.status.message or f"the API server answered {error.status.code} {error.status.reason}"
    if isinstance(error, httpx2.TimeoutException):
        return f"no answer from {error.request.url.host}:{error.request.url.port} in time ({type(error).__name__})"
    if isinstance(error, httpx2.TransportError):
        try:
            where = f"{error.request.url.host}:{error.request.url.port}"
        except RuntimeError:  # an error raised before any request was made
            where = "the API server"
        return f"cannot reach {where}: {error or type(error).__name__}"
    return str(error) or type(error).__name__


def _to_dict(resource: Any) -> Object:
    if isinstance(resource, dict):
        return resource
    result: Object = resource.to_dict()
    return result
