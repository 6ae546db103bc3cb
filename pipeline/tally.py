"""Warnings an attacker cannot multiply: counts per reason per interval, with one example each.

A burst of poison (one POST may carry 500 events) must not become 500 log lines. The glue calls
``add`` for each occurrence and logs the lines it returns; a timer calls ``flush`` so the last
interval is reported even when nothing follows it. The example is a place (``topic[partition]@offset``),
never content.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Tally:
    def __init__(self, what: str, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.interval_s = interval_s
        self.clock = clock
        self._since = clock() - interval_s  # the first occurrence is reported at once
        self._counts: dict[str, int] = {}
        self._examples: dict[str, str] = {}

    def add(self, reason: str, where: str) -> list[str]:
        """Count one occurrence; the lines to log now (a report, when an interval has passed)."""
        self._counts[reason] = self._counts.get(reason, 0) + 1
        self._examples.setdefault(reason, where)
        return self.flush()

    def flush(self, force: bool = False) -> list[str]:
        """One line per reason counted since the last report, if an interval has passed (or ``force``)."""
        now = self.clock()
        if not self._counts or (not force and now - self._since < self.interval_s):
            return []
        lines = [
            f"{self.what} {n} record{'s' * (n != 1)} as {reason}, e.g. {self._examples[reason]}"
            for reason, n in sorted(self._counts.items())
        ]
        self._counts.clear()
        self._examples.clear()
        self._since = now
        return lines
