"""The tracking consumer's fetch wait: short while caught up, long while behind (pipeline/kafka/fetching.py)."""

from __future__ import annotations

import asyncio
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from pipeline.kafka import clients
from pipeline.kafka.fetching import BEHIND_RECORDS, BEHIND_WAIT_MS, CAUGHT_UP_WAIT_MS, FetchWait, wait_for


def test_caught_up_partitions_get_the_short_wait() -> None:
    assert wait_for([0, 5, BEHIND_RECORDS], current_ms=BEHIND_WAIT_MS) == CAUGHT_UP_WAIT_MS


def test_one_partition_behind_gets_the_long_wait() -> None:
    assert wait_for([0, BEHIND_RECORDS + 1], current_ms=CAUGHT_UP_WAIT_MS) == BEHIND_WAIT_MS


def test_a_fetch_without_records_keeps_the_wait() -> None:
    assert wait_for([], current_ms=BEHIND_WAIT_MS) == BEHIND_WAIT_MS
    assert wait_for([], current_ms=CAUGHT_UP_WAIT_MS) == CAUGHT_UP_WAIT_MS


def test_the_thresholds_are_the_callers() -> None:
    assert wait_for([11], 7, caught_up_ms=7, behind_ms=70, behind_records=10) == 70
    assert wait_for([10], 70, caught_up_ms=7, behind_ms=70, behind_records=10) == 7


def test_an_unstarted_consumer_is_refused() -> None:
    async def make() -> None:
        FetchWait(AIOKafkaConsumer(bootstrap_servers="127.0.0.1:9"))

    with pytest.raises(RuntimeError, match="_fetch_max_wait_ms"):
        asyncio.run(make())


def test_a_consumer_behind_fetches_with_the_long_wait_and_back(broker, settings) -> None:
    """On a real consumer: a backlog switches the wait the fetch requests carry; once read, it is short again."""

    async def scenario() -> list[int]:
        topic = "fetching.backlog"
        producer = clients.producer(settings, linger_ms=5)
        await producer.start()
        try:
            for _ in range(3 * BEHIND_RECORDS):
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
            while read < 3 * BEHIND_RECORDS:
                fetched = await asyncio.wait_for(consumer.getmany(tp, timeout_ms=2000, max_records=200), 30)
                read += len(fetched.get(tp, []))
                seen.append(wait.update(fetched))
            return seen
        finally:
            await consumer.stop()

    seen = asyncio.run(scenario())
    assert seen[0] == CAUGHT_UP_WAIT_MS
    assert BEHIND_WAIT_MS in seen, seen
    assert seen[-1] == CAUGHT_UP_WAIT_MS, seen
