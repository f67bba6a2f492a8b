"""Reading a test's Prometheus: instant queries and waiting for a series to appear."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

from tests.support.waiting import eventually


def query(url: str, promql: str) -> list[dict[str, Any]]:
    """The result vector of an instant query (labels under `metric`, `[time, "value"]` under `value`)."""
    with urllib.request.urlopen(f"{url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}", timeout=10) as r:
        answer = json.load(r)
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


async def series(url: str, promql: str, within: float = 90.0) -> list[dict[str, Any]]:
    """Wait until `promql` returns something (scrapes are 15 s apart); return it."""
    found: list[dict[str, Any]] = []

    async def present() -> bool:
        nonlocal found
        found = query(url, promql)
        return bool(found)

    await eventually(present, within)
    return found
