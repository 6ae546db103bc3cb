"""Restoring a partition's tracking state from its changelog, one large fetch per write batch.

The local store knows the offset of the last changelog record it holds, so a worker that kept
its data dir reads only the tail; a fresh one reads the partition from the start. Ends are
confirmed by a fetch (``pipeline.transport.confirmed_end_offsets``): the embedded broker reports
a short one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from pipeline.state.store import PartitionStore
from pipeline.transport import confirmed_end_offsets

log = logging.getLogger(__name__)

FETCH_RECORDS = 50_000
FETCH_BYTES = 16 << 20


async def restore(topic: str, partition: int, store: PartitionStore, client_options: Mapping[str, Any],
                  source: str) -> int:
    """Apply the changelog partition's records after the store's offset; the number of records read.

    ``source`` names the input topic whose partition this state belongs to, for the log.
    """
    started = time.monotonic()
    tp = TopicPartition(topic, partition)
    consumer = AIOKafkaConsumer(enable_auto_commit=False, max_partition_fetch_bytes=FETCH_BYTES,
                                fetch_max_bytes=FETCH_BYTES, **client_options)
    await consumer.start()
    rows = 0
    try:
        reported = await consumer.end_offsets([tp])
        end = (await confirmed_end_offsets(reported, client_options))[tp]
        start = store.offset + 1
        if start < end:
            consumer.assign([tp])
            consumer.seek(tp, start)
            while await consumer.position(tp) < end:
                records = (await consumer.getmany(tp, timeout_ms=1000, max_records=FETCH_RECORDS)).get(tp, [])
                if records:
                    store.apply([(r.key, r.value) for r in records], records[-1].offset)
                    rows += len(records)
    finally:
        await consumer.stop()
    log.info("restored tracking state of %s[%s]: %d rows in %.2f s", source, partition, rows,
             time.monotonic() - started)
    return rows
