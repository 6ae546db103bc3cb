"""How far the archive is behind ``tracking.batch``: per partition, its end against the archive group's commit."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from config.clients import aiokafka_options
from config.settings import Settings
from pipeline.transport import confirmed_end_offsets


async def lag(settings: Settings) -> list[dict[str, Any]]:
    """``{"partition", "end", "committed", "lag"}`` per partition of tracking.batch (ends confirmed by a fetch)."""
    options = aiokafka_options(settings)
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **options)
    admin = AIOKafkaAdminClient(**options)
    await consumer.start()
    await admin.start()
    try:
        await consumer.topics()  # fetches the metadata partitions_for_topic answers from
        partitions = sorted(consumer.partitions_for_topic(settings.topic_batch) or ())
        tps = [TopicPartition(settings.topic_batch, p) for p in partitions]
        ends = await confirmed_end_offsets(await consumer.end_offsets(tps), options)
        committed = await admin.list_consumer_group_offsets(settings.archive_group, partitions=tps)
    finally:
        await admin.close()
        await consumer.stop()
    rows = []
    for tp in tps:
        done = committed.get(tp)
        position = done.offset if done is not None and done.offset >= 0 else None
        rows.append({"partition": tp.partition, "end": ends[tp], "committed": position,
                     "lag": max(0, ends[tp] - (position or 0))})
    return rows

