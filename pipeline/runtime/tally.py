"""Warnings an attacker cannot multiply: counts per reason per interval, with one example each.

A burst of poison (one POST may carry 500 events) must not become 500 log lines. The glue calls
``add`` for each occurrence and logs the lines it returns; a timer calls ``flush`` so the last
interval is reported even when nothing follows it. The example is a place (``topic[partition]@offset``),
never content; a ``Place`` also gives the report's log fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Place:
    """Where a record is: ``topic[partition]@offset`` in text, and as fields of a JSON log line."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"

    def fields(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}


@dataclass(frozen=True)
class Report:
    """One line to log: its text, and the log fields of its example (``extra=``)."""

    text: str
    example: Place | str

    def __str__(self) -> str:
        return self.text

    @property
    def fields(self) -> dict[str, Any]:
        return self.example.fields() if isinstance(self.example, Place) else {}


class Tally:
    def __init__(self, what: str, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.interval_s = interval_s
        self.clock = clock
        self._since = clock() - interval_s  # the first occurrence is reported at once
        self._counts: dict[str, int] = {}
        self._examples: dict[str, Place | str] = {}

    def add(self, reason: str, where: Place | str) -> list[Report]:
        """Count one occurrence; the lines to log now (a report, when an interval has passed)."""
        self._counts[reason] = self._counts.get(reason, 0) + 1
        self._examples.setdefault(reason, where)
        return self.flush()

    def flush(self, force: bool = False) -> list[Report]:
        """One line per reason counted since the last report, if an interval has passed (or ``force``)."""
        now = self.clock()
        if not self._counts or (not force and now - self._since < self.interval_s):
            return []
        lines = [
            Report(f"{self.what} {n} record{'s' * (n != 1)} as {reason}, e.g. {self._examples[reason]}",
                   self._examples[reason])
            for reason, n in sorted(self._counts.items())
        ]
        self._counts.clear()
        self._examples.clear()
        self._since = now
        return lines
