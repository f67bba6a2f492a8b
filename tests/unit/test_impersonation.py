"""Unit test of the client adapter: impersonation headers on every request (a mock transport is fine here)."""

from __future__ import annotations

import httpx2

from kubetenancy.k8s.client import Identity, _Impersonating


async def test_impersonation_headers_replace_any_sent_before() -> None:
    seen: list[list[tuple[str, str]]] = []

    def record(request: httpx2.Request) -> httpx2.Response:
        seen.append([(k, v) for k, v in request.headers.multi_items() if k.lower().startswith("impersonate-")])
        return httpx2.Response(200, json={})

    transport = _Impersonating(httpx2.MockTransport(record), Identity("dev", ("team-a", "team-b")))
    async with httpx2.AsyncClient(transport=transport) as client:
        await client.get("https://example.invalid/api", headers={"Impersonate-User": "someone-else"})
    assert seen == [[("impersonate-user", "dev"), ("impersonate-group", "team-a"), ("impersonate-group", "team-b")]]
