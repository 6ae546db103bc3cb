"""One partition filled on the broker, then read by a consumer with small fetches (many fetches per backlog)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition

from config.settings import Settings
from pipeline.kafka import clients


async def fill(settings: Settings, topic: str, values: Iterable[bytes]) -> None:
    """Write ``values`` to partition 0 of ``topic``, every one acknowledged."""
    producer = clients.producer(settings, linger_ms=5)
    await producer.start()
    try:
        for value in values:
            await producer.send(topic, value, partition=0)  # queued; the flush waits for every one
        await producer.flush()
    finally:
        await producer.stop()


@asynccontextmanager
async def reading(settings: Settings, topic: str, fetch_bytes: int) -> AsyncIterator[tuple[AIOKafkaConsumer, TopicPartition]]:
    """A started consumer assigned partition 0 of ``topic``, fetching at most ``fetch_bytes`` at a time."""
    consumer = clients.consumer(settings, enable_auto_commit=False, auto_offset_reset="earliest",
                                max_partition_fetch_bytes=fetch_bytes, fetch_max_bytes=fetch_bytes)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        yield consumer, tp
    finally:
        await consumer.stop()
