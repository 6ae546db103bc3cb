"""Results kept for a few seconds, computed once for all the requests that want them meanwhile. No Faust."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


class Recent:
    """Results kept for ``ttl`` seconds and computed once for all the requests that want them meanwhile.

    A failure is kept as long as a result: every waiter gets the same exception, and the read behind it
    is not retried more often than a success would be.
    """

    def __init__(self, ttl: float, size: int = 256) -> None:
        self.ttl, self.size = ttl, size
        self._items: dict[Any, tuple[float, asyncio.Future]] = {}

    async def get(self, key: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is None or hit[0] < now:
            if len(self._items) >= self.size:
                self._items = {k: v for k, v in self._items.items() if v[0] >= now}
            hit = self._items[key] = (now + self.ttl, asyncio.ensure_future(compute()))
        return await asyncio.shield(hit[1])
