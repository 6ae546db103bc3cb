"""End offsets are confirmed from a fetch: the embedded broker under-reports them after batches.

Every reader of adtrack stops at these ends (``pipeline.kafka.offsets``): the Faust transport's table
recovery, the state restore, the archive's progress, the oracle and the bench.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from config.topics import TopicSpec
from pipeline.domain.errors import EndOffsetError
from pipeline.kafka import offsets
from pipeline.kafka.admin import ensure_topics
from pipeline.sim.bench import kafka as bench_kafka

pytestmark = pytest.mark.integration

TOPIC = "end-offsets-probe"
TP = TopicPartition(TOPIC, 0)


@pytest.fixture(scope="module")
def one_batch(settings, kafka) -> tuple[int, int]:  # noqa: ANN001
    """Five records written as one batch; the true end and the end ListOffsets reports."""

    async def produce() -> tuple[int, int]:
        await ensure_topics(settings, [TopicSpec(TOPIC, 1)])
        producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=100)
        await producer.start()
        try:
            sent = [await producer.send(TOPIC, b"record %d" % n) for n in range(5)]
            last = max([(await f).offset for f in sent])
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
        await consumer.start()
        try:
            return last + 1, (await consumer.end_offsets([TP]))[TP]
        finally:
            await consumer.stop()

    return asyncio.run(produce())


def test_confirmed_end_offsets_count_every_record_of_the_last_batch(settings, one_batch) -> None:
    true_end, reported = one_batch
    confirmed = asyncio.run(offsets.confirmed_end_offsets({TP: reported}, settings))
    assert confirmed[TP] == true_end == 5
    assert reported <= true_end  # the raw answer may be short; the confirmed one never is


def test_the_end_offsets_of_partitions_and_of_a_topic_are_the_confirmed_ones(settings, one_batch) -> None:
    assert asyncio.run(offsets.end_offsets(settings, [TP])) == {TP: 5}
    assert asyncio.run(offsets.topic_end_offsets(settings, TOPIC)) == {TP: 5}
    assert asyncio.run(offsets.topic_end_offsets(settings, "no-such-topic-here")) == {}


def test_the_bench_reads_a_topic_to_its_confirmed_end(settings, one_batch) -> None:
    async def read_all() -> list[bytes]:
        return [record.value async for record in bench_kafka.read(settings, [TOPIC])]

    assert asyncio.run(read_all()) == [b"record %d" % n for n in range(5)]


def test_empty_partitions_keep_their_reported_end_offset(settings, kafka) -> None:
    tp = TopicPartition("nothing-here", 0)
    assert asyncio.run(offsets.confirmed_end_offsets({tp: 0}, settings)) == {tp: 0}


def test_an_end_no_fetch_confirms_is_an_error_naming_the_partition_not_the_short_reported_end(settings, one_batch
                                                                                              ) -> None:
    missing = TopicPartition(TOPIC, 9)  # the topic has one partition: no broker leads this one
    with pytest.raises(EndOffsetError, match=rf"{TOPIC}\[9\]"):
        asyncio.run(offsets.confirmed_end_offsets({missing: 7}, settings, timeout_s=1.0))
