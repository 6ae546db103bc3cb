"""Python's cyclic garbage collector, set for a worker that allocates per batch.

A batch of 2000 events makes some 20 000 short-lived containers (parsed events, rows, tuples);
reference counting frees nearly all of them, yet with the default thresholds they start a young
collection every 700 allocations and, every hundred of those, a full one that walks every object of
the process (Faust's and aiokafka's too): tens of milliseconds during which nothing moves. So:

- young collections wait for ``YOUNG_THRESHOLD`` allocations instead of 700;
- once the worker serves, what start-up made (modules, the app, tables, clients) is frozen: it is
  never walked again, so a full collection only walks what came after.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def tune() -> None:
    """Fewer young collections (at start-up)."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def settle() -> None:
    """Start-up is over: leave everything made so far out of every later collection."""
    gc.collect()
    gc.freeze()
