"""The tracking consumer's fetch wait on a real consumer and the embedded broker (pipeline/kafka/fetching.py)."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition

from pipeline.kafka import clients
from pipeline.kafka.fetching import BEHIND_RECORDS, BEHIND_WAIT_MS, CAUGHT_UP_WAIT_MS, FetchWait

pytestmark = pytest.mark.integration

#: Records on the partition: enough for several fetches of 16 KiB, and far over the threshold.
BACKLOG = max(3000, 3 * BEHIND_RECORDS)


def test_a_consumer_behind_fetches_with_the_long_wait_and_back(broker, settings) -> None:
    """On a real consumer: a backlog switches the wait the fetch requests carry; once read, it is short again."""

    async def scenario() -> list[int]:
        topic = "fetching.backlog"
        producer = clients.producer(settings, linger_ms=5)
        await producer.start()
        try:
            for _ in range(BACKLOG):
                await producer.send(topic, b"x" * 100, partition=0)  # queued; the flush waits for every one
            await producer.flush()
        finally:
            await producer.stop()
        consumer = clients.consumer(settings, enable_auto_commit=False, auto_offset_reset="earliest",
                                    max_partition_fetch_bytes=16_384, fetch_max_bytes=16_384)
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            consumer.assign([tp])
            wait = FetchWait(consumer)
            seen, read = [wait.wait_ms], 0
            while read < BACKLOG:
                fetched = await asyncio.wait_for(consumer.getmany(tp, timeout_ms=2000, max_records=200), 30)
                read += len(fetched.get(tp, []))
                seen.append(wait.update())
            return seen
        finally:
            await consumer.stop()

    seen = asyncio.run(scenario())
    assert seen[0] == CAUGHT_UP_WAIT_MS
    assert BEHIND_WAIT_MS in seen, seen
    assert seen[-1] == CAUGHT_UP_WAIT_MS, seen
