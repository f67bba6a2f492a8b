"""Requests passed through to the API server as they are: for the aggregated API server's views.

The views show namespaces and Accounts under other names, so they need the API server's answers
unchanged — resource versions, Status errors, watch events one by one — rather than lightkube's typed
objects and its self-restarting watches. A request may act as the caller (impersonation headers), so
the API server's own authorization applies to writes made on a user's behalf, or carry the caller's own
bearer token (the console: a client made from a kubeconfig without credentials, so every request is
made as the logged-in user and never as the console).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx2
from lightkube import KubeConfig
from lightkube.config import client_adapter

from kubetenancy.k8s.client import API_REQUESTS, Identity, Object

TIMEOUT = httpx2.Timeout(30.0)


class Unreachable(ConnectionError):
    """The API server could not be reached (or the connection broke)."""


def _headers(identity: Identity | None, content_type: str | None, token: str | None) -> list[tuple[str, str]]:
    headers = [("Accept", "application/json")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    if content_type:
        headers.append(("Content-Type", content_type))
    if identity is not None:
        headers.append(("Impersonate-User", identity.user))
        headers += [("Impersonate-Group", group) for group in identity.groups]
    return headers


def _json(response: httpx2.Response) -> Object:
    try:
        parsed = response.json()
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": response.status_code,
        "message": response.text.strip() or f"the API server answered {response.status_code}",
    }


class Passthrough:
    """Raw JSON requests to one API server."""

    def __init__(self, kubeconfig: Path | Mapping[str, Any] | None = None) -> None:
        if isinstance(kubeconfig, Mapping):
            loaded = KubeConfig.from_dict(dict(kubeconfig))
        else:
            loaded = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
        config = loaded.get()
        if config is None:
            raise ValueError(f"kubeconfig {kubeconfig or '$KUBECONFIG'} has no current context")
        self._http = client_adapter.AsyncClient(config, client_adapter.ConnectionParams(timeout=TIMEOUT))

    async def close(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str | None = None,
        identity: Identity | None = None,
        token: str | None = None,
    ) -> tuple[int, Object]:
        """The status code and JSON answer (a Status object when the API server refused)."""
        API_REQUESTS.labels(method.lower()).inc()
        content = None if body is None else json.dumps(body).encode()
        if content is not None and content_type is None:
            content_type = "application/json"
        try:
            response = await self._http.request(
                method,
                path,
                params=dict(params or {}),
                content=content,
                headers=_headers(identity, content_type, token),
            )
        except httpx2.TransportError as error:
            raise Unreachable(f"{method} {path}: {error}") from error
        return response.status_code, _json(response)

    async def watch(
        self, path: str, params: Mapping[str, str], *, identity: Identity | None = None, token: str | None = None
    ) -> AsyncIterator[Object]:
        """One watch request: its events, until the API server ends it. A refused watch yields one ERROR
        event carrying the Status, as the API server itself reports errors in a watch."""
        API_REQUESTS.labels("watch").inc()
        request = self._http.build_request(
            "GET",
            path,
            params={**params, "watch": "true"},
            headers=_headers(identity, None, token),
            timeout=httpx2.Timeout(TIMEOUT.connect, read=None),
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx2.TransportError as error:
            raise Unreachable(f"watch {path}: {error}") from error
        try:
            if response.status_code != 200:
                await response.aread()
                yield {"type": "ERROR", "object": _json(response)}
                return
            async for line in response.aiter_lines():
                if line.strip():
                    event: Object = json.loads(line)
                    yield event
        except httpx2.TransportError as error:
            raise Unreachable(f"watch {path}: {error}") from error
        finally:
            await response.aclose()
