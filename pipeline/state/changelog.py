"""Restoring a partition's tracking state from its changelog, one large fetch per write batch.

The local store knows the offset of the last changelog record it holds, so a worker that kept
its data dir reads only the tail; a fresh one reads the partition from the start. Ends are
confirmed by a fetch (``pipeline.kafka.offsets``): the embedded broker reports a short one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from aiokafka import TopicPartition

from config.settings import Settings
from pipeline.kafka import clients
from pipeline.kafka.offsets import confirm
from pipeline.state.partition import PartitionState
from pipeline.state.store import PartitionStore

log = logging.getLogger(__name__)

FETCH_RECORDS = 50_000
FETCH_BYTES = 16 << 20


async def restore(topic: str, partition: int, store: PartitionStore, settings: Settings,
                  source: str) -> int:
    """Apply the changelog partition's records after the store's offset; the number of rows written.

    ``source`` names the input topic whose partition this state belongs to, for the log.
    """
    started = time.monotonic()
    tp = TopicPartition(topic, partition)
    consumer = clients.consumer(settings, enable_auto_commit=False, max_partition_fetch_bytes=FETCH_BYTES,
                                fetch_max_bytes=FETCH_BYTES)
    await consumer.start()
    rows = 0
    try:
        consumer.assign([tp])
        end = (await confirm(consumer, await consumer.end_offsets([tp])))[tp]
        start = store.offset + 1
        if start < end:
            consumer.seek(tp, start)
            while await consumer.position(tp) < end:
                records = (await consumer.getmany(tp, timeout_ms=1000, max_records=FETCH_RECORDS)).get(tp, [])
                if records:
                    rows += store.apply([(r.key, r.value) for r in records], records[-1].offset)
    finally:
        await consumer.stop()
    log.info("restored tracking state of %s[%s]: %d rows in %.2f s", source, partition, rows,
             time.monotonic() - started)
    return rows


async def restore_states(partitions: list[int], state_dir: Path, settings: Settings) -> dict[int, PartitionState]:
    """The tracking state of newly assigned ``tracking.raw`` partitions, each restored from its changelog."""
    if not partitions:
        return {}
    started = time.monotonic()
    stores = {p: PartitionStore(state_dir / f"{settings.topic_raw}-{p}") for p in partitions}
    rows = await asyncio.gather(*(restore(settings.tracking_state_topic, p, stores[p], settings, settings.topic_raw)
                                  for p in partitions))
    log.info("restored tracking state: %d rows of %d partitions in %.2f s", sum(rows), len(partitions),
             time.monotonic() - started)
    return {p: PartitionState(p, stores[p]) for p in partitions}
