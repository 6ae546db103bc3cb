"""Who may start an ingest request now: a limit on requests in flight, overall and per client address.

Pure bookkeeping, no I/O. A refused request is answered 503 at once (shed load rather than queue
it). The per-client limit keeps a few slow clients (bodies sent a byte at a time) from taking every
slot: they hold their own share and the others go on being served.
"""

from __future__ import annotations

from collections import Counter


class Admission:
    """Requests in flight against ``limit`` overall and ``per_client`` per client address (0: no per-client limit)."""

    def __init__(self, limit: int, per_client: int = 0) -> None:
        self.limit = limit
        self.per_client = per_client
        self.active = 0
        self._by_client: Counter[str] = Counter()

    def admit(self, client: str) -> bool:
        """Take a slot for ``client``; False (and nothing taken) when a limit is reached."""
        if self.active >= self.limit:
            return False
        if self.per_client and self._by_client[client] >= self.per_client:
            return False
        self.active += 1
        self._by_client[client] += 1
        return True

    def release(self, client: str) -> None:
        self.active -= 1
        self._by_client[client] -= 1
        if self._by_client[client] <= 0:
            del self._by_client[client]  # the table holds only clients with a request in flight

    def clients(self) -> int:
        return len(self._by_client)
