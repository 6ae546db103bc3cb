"""Broker reads the pages show, or why they failed: cached, bounded in time, logged when they go wrong.

A page shows a lag it could not read as the reason (``lag_error``) instead of failing whole. Only the
errors a read from the brokers can meet are caught: an unreachable or failing broker (``KafkaError``),
the network (``OSError``) and the time limit (``TimeoutError``, an ``OSError``); anything else is a bug
and fails the request with its traceback. A failing read is logged once when it starts failing or fails
for another reason, and once when it works again, not on every refresh of every open page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from aiokafka.errors import KafkaError

from pipeline.web.recent import Recent

log = logging.getLogger(__name__)

T = TypeVar("T")
READ_ERRORS = (KafkaError, OSError)


def why(exc: BaseException) -> str:
    """An error as the pages show it: its type and message (Kafka errors' messages start with their type)."""
    name, text = type(exc).__name__, str(exc)
    return text if text.startswith(name) else f"{name}: {text}".rstrip(": ")


class Reading(Generic[T]):
    """``read()`` at most once per ``ttl`` seconds for all requests, given ``timeout`` seconds."""

    def __init__(self, what: str, read: Callable[[], Awaitable[T]], ttl: float, timeout: float) -> None:
        self.what, self.read, self.timeout = what, read, timeout
        self._recent = Recent(ttl)
        self._failing: str | None = None  # why the last read failed

    async def get(self) -> T | str:
        """The result, or why there is none."""
        try:
            found = await asyncio.wait_for(self._recent.get(None, self.read), self.timeout)
        except READ_ERRORS as exc:
            reason = why(exc)
            if reason != self._failing:
                log.warning("could not read %s: %s; the pages show why", self.what, reason)
            self._failing = reason
            return reason
        if self._failing is not None:
            log.info("%s read again after: %s", self.what, self._failing)
            self._failing = None
        return found
