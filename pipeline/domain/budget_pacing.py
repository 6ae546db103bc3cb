"""Budget pacing: is a campaign spending its budget evenly over its flight? Pure, no Faust.

Even delivery expects ``total × elapsed / flight`` to be spent by now. The pace is spend over that
amount: within ``TOLERANCE`` of 1 is on track, above is ahead (the budget runs out before the flight
ends), below is behind (part of it will not be spent). Where pacing does not apply, the verdict says why
(spend unknown, no budget, not started, no end date, ended): a verdict, never an exception.
Money in integer micros, as the pipeline charges it; times in epoch milliseconds.
"""

from __future__ import annotations

import dataclasses
import enum

TOLERANCE = 0.1


class Verdict(enum.StrEnum):
    ON_TRACK = "on track"
    AHEAD = "ahead"
    BEHIND = "behind"
    UNKNOWN = "spend unknown"
    NO_BUDGET = "no budget"
    NOT_STARTED = "not started"
    NO_END = "no end date"
    ENDED = "ended"


@dataclasses.dataclass(frozen=True)
class Pacing:
    verdict: Verdict
    spent_micros: int | None
    total_micros: int | None
    expected_micros: int | None  # what even delivery would have spent by now; None without budget or end
    pace: float | None  # spent / expected; None where that is undefined
    elapsed: float | None  # the share of the flight behind us, 0 to 1; None without an end


def pacing(total_micros: int | None, spent_micros: int | None, start_ms: int, end_ms: int | None, now_ms: int,
           tolerance: float = TOLERANCE) -> Pacing:
    elapsed = expected = pace = None
    if end_ms is not None and end_ms > start_ms:
        elapsed = min(max(now_ms - start_ms, 0), end_ms - start_ms) / (end_ms - start_ms)
        if total_micros is not None:
            expected = total_micros * min(max(now_ms - start_ms, 0), end_ms - start_ms) // (end_ms - start_ms)
    if expected is not None and spent_micros is not None and expected > 0:
        pace = spent_micros / expected

    def verdict() -> Verdict:
        if spent_micros is None:
            return Verdict.UNKNOWN
        if total_micros is None:
            return Verdict.NO_BUDGET
        if now_ms < start_ms:
            return Verdict.NOT_STARTED
        if end_ms is None:
            return Verdict.NO_END
        if now_ms >= end_ms or expected is None:  # expected is None only for a flight that ends as it starts
            return Verdict.ENDED
        if pace is None:  # nothing expected yet: any spend is ahead of even delivery
            return Verdict.AHEAD if spent_micros > 0 else Verdict.ON_TRACK
        if pace > 1 + tolerance:
            return Verdict.AHEAD
        return Verdict.BEHIND if pace < 1 - tolerance else Verdict.ON_TRACK

    return Pacing(verdict(), spent_micros, total_micros, expected, pace, elapsed)
