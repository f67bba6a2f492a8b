"""Waiting for the cluster to converge, without sleeping for fixed times."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    """Await `check()` until it returns True; fail after `within` seconds."""
    async with asyncio.timeout(within):
        # Polling the API server is the point here: the condition lives in another process.
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.2)
