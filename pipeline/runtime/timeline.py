"""Events per second by outcome over the last hour, in bounded memory: one count per outcome and minute.

The tracking path feeds it once per landed batch with the batch's counts, never once per event.
Outcomes are grouped as the dashboard's cards group them (``accepted``, ``rejected``, ``dlq``; the
reasons are in ``pipeline.runtime.stats``); ``rerouted`` is a move to another partition, not an outcome, and is
left out. At most ``MINUTES`` buckets are kept, so memory is 60 × 3 integers whatever the traffic.

Per-minute counts rather than per-10-second ones: a minute's rate is its count over the seconds of it
that the worker saw, so the current minute is drawn as it fills (its rate moves within seconds of a
change in traffic) while an hour still fits in 60 buckets. A worker saw a minute from the later of the
minute's start and its own start, until the earlier of the minute's end and now; a minute no answering
worker saw has no rate (``None``: a gap, not a zero).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

MINUTE_S = 60
MINUTES = 60
OUTCOMES = ("accepted", "rejected", "dlq")
_INDEX = {outcome: i for i, outcome in enumerate(OUTCOMES)}


def minute_of(seconds: float) -> int:
    """The epoch second at which the minute holding ``seconds`` began."""
    return int(seconds // MINUTE_S) * MINUTE_S


class Timeline:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.started_at = clock()
        self._minutes: deque[tuple[int, list[int]]] = deque(maxlen=MINUTES)  # (minute start, counts by OUTCOMES)

    def add(self, counts: Iterable[tuple[str, int]]) -> None:
        """A landed batch's counts: (``accepted`` | ``rejected:<reason>`` | ``dlq:<reason>`` | other, n) pairs."""
        start = minute_of(self.clock())
        # A clock stepped back counts into the newest minute rather than reorder the buckets.
        if not self._minutes or start > self._minutes[-1][0]:
            self._minutes.append((start, [0] * len(OUTCOMES)))
        bucket = self._minutes[-1][1]
        for outcome, n in counts:
            index = _INDEX.get(outcome.partition(":")[0])
            if index is not None:
                bucket[index] += n

    def snapshot(self) -> dict[str, Any]:
        """This worker's counts of the last hour, for ``/stats.json?local=1`` and ``series``."""
        oldest = minute_of(self.clock()) - (MINUTES - 1) * MINUTE_S
        return {
            "started_at": self.started_at,
            "minutes": [{"start": start, **dict(zip(OUTCOMES, counts))}
                        for start, counts in self._minutes if start >= oldest],
        }


def series(snapshots: Sequence[Mapping[str, Any]], now: float) -> dict[str, Any]:
    """Per-second rates by outcome for each of the ``MINUTES`` minutes up to ``now``, oldest first, summed
    over the workers' ``Timeline.snapshot()``s; ``start`` is the first minute's epoch second, ``at`` is ``now``."""
    first = minute_of(now) - (MINUTES - 1) * MINUTE_S
    rates: dict[str, list[float | None]] = {outcome: [None] * MINUTES for outcome in OUTCOMES}
    for snapshot in snapshots:
        counts = {minute["start"]: minute for minute in snapshot["minutes"]}
        for i in range(MINUTES):
            start = first + i * MINUTE_S
            if snapshot["started_at"] >= start + MINUTE_S:
                continue  # this worker was not running then
            # At least a second: a minute a few milliseconds old would turn one event into thousands a second.
            seen = max(min(start + MINUTE_S, now) - max(start, snapshot["started_at"]), 1.0)
            minute = counts.get(start, {})
            for outcome, values in rates.items():
                values[i] = (values[i] or 0.0) + minute.get(outcome, 0) / seen
    return {
        "minute_s": MINUTE_S,
        "start": first,
        "at": now,
        "outcomes": {outcome: [None if v is None else round(v, 3) for v in values] for outcome, values in rates.items()},
    }


#: The worker's timeline.
timeline = Timeline()
