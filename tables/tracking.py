"""Per-campaign tracking state, partitioned like ``tracking.raw`` (by campaign).

- ``accepted``: event_id -> where it was accepted and the budget left after it.
  It answers "was this event_id accepted before?" and tells a replay of the very same
  message after a crash (same partition and offset) from a true duplicate.
- ``spend``: campaign_id -> micros spent and the offset of the last event charged, so that
  a replayed event is never charged twice.
"""

from __future__ import annotations

from pipeline.app import app, settings

accepted = app.Table(
    "tracking-accepted", partitions=settings.partitions, key_type=str, help="Accepted event ids (dedupe)."
)
spend = app.Table("tracking-spend", partitions=settings.partitions, key_type=str, help="Spend per campaign.")
