"""End offsets are confirmed from a fetch: the embedded broker under-reports them after batches."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from config.topics import TopicSpec
from pipeline.admin import ensure_topics
from pipeline.transport import confirmed_end_offsets

pytestmark = pytest.mark.integration


async def produce_one_batch_and_measure(settings, topic: str) -> tuple[int, int, int]:  # noqa: ANN001
    await ensure_topics(settings, [TopicSpec(topic, 1)])
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=100)
    await producer.start()
    try:
        sent = [await producer.send(topic, b"record %d" % n) for n in range(5)]
        last = max([(await f).offset for f in sent])
    finally:
        await producer.stop()
    tp = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    try:
        reported = (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()
    confirmed = await confirmed_end_offsets({tp: reported}, {"bootstrap_servers": settings.bootstrap_servers})
    return last + 1, reported, confirmed[tp]


def test_confirmed_end_offsets_count_every_record_of_the_last_batch(settings, kafka) -> None:
    true_end, reported, confirmed = asyncio.run(produce_one_batch_and_measure(settings, "end-offsets-probe"))
    assert confirmed == true_end == 5
    assert reported <= true_end  # the raw answer may be short; the confirmed one never is


def test_empty_partitions_keep_their_reported_end_offset(settings, kafka) -> None:
    tp = TopicPartition("nothing-here", 0)
    assert asyncio.run(confirmed_end_offsets({tp: 0}, {"bootstrap_servers": settings.bootstrap_servers})) == {tp: 0}
