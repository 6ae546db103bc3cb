"""Test traffic for ``tracking.raw``: realistic billable events mixed with every way an event goes wrong.

``generate`` is pure: the core data, a seeded ``random.Random`` and the clock decide every byte,
so a seed repeats the stream exactly. Each item names the bucket the tracking agent should put it
in (``Generated.expected``): ``accepted``, a rejection ``Reason`` value, or ``dlq:<poison reason>``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import config
from config.settings import Settings
from pipeline.domain.errors import PoisonError
from pipeline.domain.rules import Reason
from pipeline.sim.invalid import MAKERS
from pipeline.sim.snapshot import Snapshot
from pipeline.sim.traffic import ACCEPTED, Generated, NoTrafficError, Traffic

__all__ = ["BUCKETS", "INVALID", "SAMPLE_CORE_DATA", "Generated", "NoTrafficError", "generate"]

SAMPLE_CORE_DATA = Path(config.__file__).parent / "coredata.sample.jsonl"

POISON = tuple(kind.reason for kind in PoisonError.__subclasses__())
# Every bucket, in the order a summary lists them: accepted, the rules' order, then the DLQ.
BUCKETS = (ACCEPTED, *(r.value for r in Reason), *(f"dlq:{p}" for p in POISON))
INVALID = tuple(MAKERS)  # the invalid share takes turns over these
DEFAULTS = Settings()


def generate(
    updates: list[dict[str, Any]],
    rng: random.Random,
    invalid_ratio: float,
    now_ms: Callable[[], int],
    settings: Settings = DEFAULTS,
) -> Iterator[Generated]:
    """An endless stream over the core-data ``updates``; a share ``invalid_ratio`` goes wrong on purpose.

    ``settings`` supplies the limits the tracking agent enforces (clock skew, dedupe window, size).
    """
    if not 0 <= invalid_ratio <= 1:
        raise ValueError(f"invalid_ratio must be between 0 and 1, got {invalid_ratio}")
    traffic = Traffic(Snapshot.from_updates(updates), rng, settings)
    traffic.campaigns(now_ms())  # raise NoTrafficError now, not at the first event
    turn = 0

    def next_item() -> Generated:
        nonlocal turn
        now = now_ms()
        if rng.random() < invalid_ratio:
            # A kind the core data cannot show right now is skipped; poison can always be made.
            for _ in INVALID:
                kind = INVALID[turn % len(INVALID)]
                turn += 1
                if (item := MAKERS[kind](traffic, now)) is not None:
                    return item
        return traffic.accepted(now)

    return iter(next_item, None)
