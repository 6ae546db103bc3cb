"""The outbox: batches handed over while the producer is busy go out merged, in order, each told its offsets."""

from __future__ import annotations

import asyncio
import gc
import itertools
import weakref

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

from config.clients import aiokafka_options
from config.settings import Settings
from config.topics import TopicSpec
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.batches import last_offset, send_records
from pipeline.kafka.outbox import Outbox
from tests.harness import Kafka, unique

LIMIT = 100_000


def parcel(topic: str, *values: str, partition: int = 0) -> dict:
    return {(topic, partition): [(None, value.encode(), []) for value in values]}


async def _with_outbox(settings: Settings, body) -> None:
    producer = AIOKafkaProducer(acks="all", linger_ms=0, **aiokafka_options(settings))
    await producer.start()
    try:
        await body(Outbox(producer, LIMIT))
    finally:
        await producer.stop()


@pytest.mark.integration
def test_parcels_put_while_a_send_is_under_way_go_out_together_in_order(settings: Settings, kafka: Kafka) -> None:
    topic = unique("outbox")
    asyncio.run(ensure_topics(settings, [TopicSpec(topic, 2)]))

    async def body(outbox: Outbox) -> None:
        first = outbox.put(parcel(topic, "a1", "a2"))
        await asyncio.sleep(0)  # the first send is under way
        second = outbox.put({**parcel(topic, "b1"), **parcel(topic, "b2", partition=1)})
        third = outbox.put(parcel(topic, "c1", "c2"))
        for delivery in (first, second, third):
            await delivery.wait()
        assert second.last[topic, 0][0] is third.last[topic, 0][0]  # one record batch for both
        assert [last_offset([d.last[topic, 0]]) for d in (first, second, third)] == [1, 2, 4]
        assert last_offset([second.last[topic, 1]]) == 0

    asyncio.run(_with_outbox(settings, body))
    records = kafka.read(topic)
    assert [(r.partition, r.value) for r in records] == [
        (0, b"a1"), (0, b"a2"), (0, b"b1"), (0, b"c1"), (0, b"c2"), (1, b"b2")]


@pytest.mark.integration
def test_a_send_that_fails_fails_every_later_batch_and_none_of_them_is_sent(settings: Settings, kafka: Kafka) -> None:
    topic = unique("outbox")
    asyncio.run(ensure_topics(settings, [TopicSpec(topic, 1)]))

    async def body(outbox: Outbox) -> None:
        fine = outbox.put(parcel(topic, "ok"))
        await fine.wait()
        failing = outbox.put(parcel(topic, "x" * (LIMIT + 1)))
        later = outbox.put(parcel(topic, "after"))
        for delivery in (failing, later):
            with pytest.raises(MessageSizeTooLargeError):
                await delivery.wait()
        with pytest.raises(MessageSizeTooLargeError):
            await outbox.put(parcel(topic, "much later")).wait()

    asyncio.run(_with_outbox(settings, body))
    assert [r.value for r in kafka.read(topic)] == [b"ok"]


@pytest.mark.integration
def test_records_that_outgrow_one_record_batch_go_out_as_several_in_order(settings: Settings, kafka: Kafka) -> None:
    topic = unique("outbox")
    asyncio.run(ensure_topics(settings, [TopicSpec(topic, 1)]))
    values = [b"%04d" % n + b"x" * 1000 for n in range(300)]  # about 300 KiB: five batches of 64 KiB

    async def body() -> None:
        producer = AIOKafkaProducer(acks="all", linger_ms=0, max_batch_size=64 << 10, **aiokafka_options(settings))
        await producer.start()
        try:
            [acks] = await send_records(producer, [(topic, 0)], [(None, v, [("n", v[:4])]) for v in values], LIMIT)
            await asyncio.gather(*(future for future, _ in acks))
        finally:
            await producer.stop()
        assert len(acks) >= 5 and sum(count for _, count in acks) == len(values)
        assert [future.result().offset for future, _ in acks] == list(
            itertools.accumulate((count for _, count in acks[:-1]), initial=0))
        assert last_offset(acks) == len(values) - 1

    asyncio.run(body())
    records = kafka.read(topic)
    assert [r.value for r in records] == values
    assert [r.headers for r in records] == [{"n": v[:4]} for v in values]


def counting_builders(outbox: Outbox) -> list[int]:
    """The record batch builders the outbox's producer makes from now on (each is built into bytes once)."""
    made: list[int] = []
    create = outbox.producer.create_batch
    outbox.producer.create_batch = lambda: made.append(1) or create()  # type: ignore[method-assign]
    return made


@pytest.mark.integration
def test_a_list_handed_to_two_destinations_is_built_once_and_lands_in_both(settings: Settings, kafka: Kafka) -> None:
    realtime, batch = unique("outbox-realtime"), unique("outbox-batch")
    asyncio.run(ensure_topics(settings, [TopicSpec(realtime, 2), TopicSpec(batch, 2)]))

    def shared(*values: str) -> list:
        return [(b"key", value.encode(), [("n", value.encode())]) for value in values]

    async def body(outbox: Outbox) -> None:
        made = counting_builders(outbox)
        first_list = shared("a1", "a2")
        first = outbox.put({(realtime, 0): first_list, (batch, 1): first_list, (realtime, 1): shared("own")})
        await asyncio.sleep(0)  # the first send is under way: the next two are merged
        lists = shared("b1"), shared("c1", "c2")
        later = [outbox.put({(realtime, 0): items, (batch, 1): items}) for items in lists]
        for delivery in (first, *later):
            await delivery.wait()
        assert len(made) == 3  # first: the shared list and (realtime, 1); then one for both merged parcels
        for destination in ((realtime, 0), (batch, 1)):
            assert [last_offset([d.last[destination]]) for d in (first, *later)] == [1, 2, 4]

    asyncio.run(_with_outbox(settings, body))
    expected = [b"a1", b"a2", b"b1", b"c1", b"c2"]
    assert [(r.partition, r.value) for r in kafka.read(realtime)] == [(0, v) for v in expected] + [(1, b"own")]
    landed = kafka.read(batch)
    assert [(r.partition, r.key, r.value, r.headers) for r in landed] == [(1, b"key", v, {"n": v}) for v in expected]


@pytest.mark.integration
def test_equal_records_in_lists_of_their_own_are_built_for_each_destination(settings: Settings, kafka: Kafka) -> None:
    first, second = unique("outbox-first"), unique("outbox-second")
    asyncio.run(ensure_topics(settings, [TopicSpec(first, 1), TopicSpec(second, 1)]))

    async def body(outbox: Outbox) -> None:
        made = counting_builders(outbox)
        together = [(None, b"x", [])]
        # Put before the send starts, so merged: one list shared by one parcel, not by the other. The
        # two destinations' records differ, so each gets a record batch of its own.
        one = outbox.put({(first, 0): together, (second, 0): together})
        two = outbox.put({**parcel(first, "only-first"), **parcel(second, "y")})
        for delivery in (one, two):
            await delivery.wait()
        assert len(made) == 2

    asyncio.run(_with_outbox(settings, body))
    assert [r.value for r in kafka.read(first)] == [b"x", b"only-first"]
    assert [r.value for r in kafka.read(second)] == [b"x", b"y"]


class Records(list):
    """A list of records whose lifetime a test can watch (a plain list takes no weak reference)."""


@pytest.mark.integration
def test_records_are_let_go_once_built_into_record_batches(settings: Settings, kafka: Kafka) -> None:
    """The producer holds the built bytes until acknowledged: the delivery does not keep the records too."""
    topic = unique("outbox")
    asyncio.run(ensure_topics(settings, [TopicSpec(topic, 1)]))

    async def body(outbox: Outbox) -> None:
        records = Records([(None, b"v%d" % i, []) for i in range(100)])
        watched = weakref.ref(records)
        delivery = outbox.put({(topic, 0): records})
        del records
        assert watched() is not None  # queued: held until built
        await delivery.handed
        gc.collect()
        assert watched() is None
        await delivery.wait()
        assert last_offset([delivery.last[topic, 0]]) == 99

    asyncio.run(_with_outbox(settings, body))
    assert len(kafka.read(topic)) == 100
