"""How far the archive is behind ``tracking.batch``: per partition, its end against the archive group's commit."""

from __future__ import annotations

from typing import Any

from config.settings import Settings
from pipeline.kafka import clients
from pipeline.kafka.offsets import topic_end_offsets


async def lag(settings: Settings) -> list[dict[str, Any]]:
    """``{"partition", "end", "committed", "lag"}`` per partition of tracking.batch (ends confirmed by a fetch)."""
    ends = await topic_end_offsets(settings, settings.topic_batch)
    tps = list(ends)
    admin = clients.admin(settings)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(settings.archive_group, partitions=tps)
    finally:
        await admin.close()
    rows = []
    for tp in tps:
        done = committed.get(tp)
        position = done.offset if done is not None and done.offset >= 0 else None
        rows.append({"partition": tp.partition, "end": ends[tp], "committed": position,
                     "lag": max(0, ends[tp] - (position or 0))})
    return rows

