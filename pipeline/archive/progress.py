"""How far the archive is behind ``tracking.batch``: per partition, its end against the archive group's commit."""

from __future__ import annotations

from typing import Any

from config.settings import Settings
from pipeline.kafka import offsets


async def lag(settings: Settings) -> list[dict[str, Any]]:
    """``{"partition", "end", "committed", "lag"}`` per partition of tracking.batch (ends confirmed by a fetch)."""
    return await offsets.group_progress(settings, settings.archive_group, settings.topic_batch)
