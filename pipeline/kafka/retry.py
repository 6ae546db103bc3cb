"""How long to wait before sending again what Kafka refused for a passing reason.

Doubling from ``first_s`` up to ``max_s``, and never past the deadline of the send: a retry that
could not start before it is no retry. The glue (``pipeline.kafka.sending``) decides what is
retriable and sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    first_s: float = 0.1
    max_s: float = 2.0

    def delay(self, attempt: int, left_s: float) -> float | None:
        """The wait before retry ``attempt`` (0 for the first), or None when ``left_s`` leaves no room for it."""
        delay = min(self.max_s, self.first_s * 2.0 ** min(attempt, 64))
        return delay if delay < left_s else None
