"""Pacing a producer to a steady rate: a token bucket on the monotonic clock."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """``take`` blocks until a token is there; tokens come at ``rate`` per second, at most ``capacity`` saved up.

    Kept as the bucket's theoretical arrival time (GCRA): each take moves the due time on by exactly
    1/rate from where it was, not from when the sleep returned, so oversleeping never adds up to drift.
    The default capacity lets a tenth of a second of lateness be caught up.
    """

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self._interval = 1.0 / rate
        self._slack = (max(1.0, rate / 10 if capacity is None else capacity) - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._due: float | None = None

    def take(self) -> None:
        now = self._clock()
        # After a pause, at most ``capacity`` tokens have been saved up.
        due = now if self._due is None else max(self._due, now - self._slack)
        if due > now:
            self._sleep(due - now)
        self._due = due + self._interval
