"""The bench's Kafka I/O: write records fast or at a steady rate, read topics whole, watch a group's lag.

Reads use large fetches and stop at ends confirmed by a fetch (the embedded broker under-reports
them, see ``pipeline.kafka.offsets``), so reading every output of 500 000 events takes seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.producer.message_accumulator import BatchBuilder

from config.settings import Settings
from pipeline.kafka import clients, offsets
from pipeline.kafka.contiguity import Contiguity
from pipeline.sim.bench.mix import BenchRecord

FETCH = {"max_partition_fetch_bytes": 8 << 20, "fetch_max_bytes": 64 << 20, "fetch_max_wait_ms": 100}
Out = tuple[int, bytes | None, bytes, list[tuple[str, bytes]]]  # partition, key, value, headers


def tracking_group(settings: Settings) -> str:
    """The consumer group that commits ``tracking.raw`` offsets."""
    return settings.tracking_group


def out(record: BenchRecord) -> Out:
    return record.partition, record.key, record.value, record.headers


def producer(settings: Settings, linger_ms: int = 20) -> AIOKafkaProducer:
    return clients.producer(settings, linger_ms=linger_ms, max_batch_size=1 << 20, max_request_size=1 << 22,
                            acks="all")


async def write(settings: Settings, topic: str, records: Iterable[Out]) -> int:
    """Write ``records`` as fast as the broker takes them; every one acknowledged when this returns."""
    sender = producer(settings)
    await sender.start()
    try:
        pending: list[asyncio.Future[Any]] = []
        sent = 0
        for partition, key, value, headers in records:
            pending.append(await sender.send(topic, value=value, key=key, partition=partition, headers=headers))
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                sent, pending = sent + len(pending), []
        await asyncio.gather(*pending)
        return sent + len(pending)
    finally:
        await sender.stop()


async def paced(settings: Settings, topic: str, records: Iterable[Out], rate: float, seconds: float) -> int:
    """Open loop: send at ``rate`` per second for ``seconds`` whatever the consumer does; returns the count.

    Record ``n`` is due ``n / rate`` s after the start and carries that time as its timestamp, so a
    sender that falls behind shows as latency, not as a slower rate. Every ``ADTRACK_PRODUCER_LINGER_MS``
    the records due are sent as one record batch per partition, as adtrack's own ingest batches them.
    The embedded broker's fetches slow down with every record batch a partition holds (decision 0004):
    a batch every 1 ms made about five times as many, and even a consumer that does nothing had a p99
    of 374 ms after 20 s at 10 400 events/s. A record batch builder per partition, rather than a send
    and a future per record, also keeps the sender's own CPU off the two cores the worker shares with it.
    """
    sender = producer(settings, linger_ms=0)
    await sender.start()
    try:
        total, sent, pending = int(rate * seconds), 0, []
        tick = max(settings.producer_linger_ms, 1) / 1000
        source = iter(records)
        started, started_ms = time.monotonic(), time.time() * 1000
        while sent < total:
            due = min(total, int((time.monotonic() - started) * rate))
            builders: dict[int, BatchBuilder] = {}
            for partition, key, value, headers in itertools.islice(source, due - sent):
                builder = builders.get(partition)
                if builder is None:
                    builder = builders[partition] = sender.create_batch()
                timestamp = int(started_ms + sent * 1000 / rate)
                if builder.append(key=key, value=value, timestamp=timestamp, headers=headers) is None:
                    builder.close()
                    pending.append(await sender.send_batch(builder, topic, partition=partition))
                    builder = builders[partition] = sender.create_batch()
                    builder.append(key=key, value=value, timestamp=timestamp, headers=headers)
                sent += 1
            for partition, builder in builders.items():
                builder.close()
                pending.append(await sender.send_batch(builder, topic, partition=partition))
            if sent < due:
                break  # ``records`` ran out
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending = []
            await asyncio.sleep(tick)
        await asyncio.gather(*pending)
        return sent
    finally:
        await sender.stop()


def partitions(consumer: AIOKafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]


class Ends:
    """A consumer kept open to count the records on some topics (for a cheap "done yet?")."""

    def __init__(self, settings: Settings, topics: Iterable[str]) -> None:
        self.consumer = clients.consumer(settings, enable_auto_commit=False)
        self.topics = tuple(topics)

    async def __aenter__(self) -> Ends:
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def total(self) -> int:
        tps = partitions(self.consumer, self.topics)
        if set(tps) != self.consumer.assignment():
            self.consumer.assign(tps)
        return sum((await offsets.confirm(self.consumer, await self.consumer.end_offsets(tps))).values())


async def read(settings: Settings, topics: Iterable[str]) -> AsyncIterator[ConsumerRecord]:
    """Every record on ``topics`` from the beginning to the confirmed end, in large fetches."""
    consumer = clients.consumer(settings, enable_auto_commit=False, **FETCH)
    await consumer.start()
    try:
        tps = partitions(consumer, topics)
        if not tps:
            return
        consumer.assign(tps)
        ends = await offsets.confirm(consumer, await consumer.end_offsets(tps))
        # The outputs are neither compacted nor transactional: a hole a busy broker answers past is
        # fetched again, or the oracle would count its records missing (pipeline/kafka/contiguity.py).
        contiguity = Contiguity(consumer)
        for tp in tps:
            consumer.seek(tp, 0)
            contiguity.expect(tp, 0)
        left = {tp for tp in tps if ends[tp] > 0}
        while left:
            batches = await consumer.getmany(*left, timeout_ms=1000, max_records=100_000)
            for tp, records in batches.items():
                for record in contiguity.take(tp, records):
                    yield record
            left = {tp for tp in left if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()


async def wait_drained(settings: Settings, group: str, timeout_s: float) -> dict[int, int]:
    """Wait until ``group`` committed all of ``tracking.raw`` twice in a row; returns the lag left."""
    return await offsets.wait_drained(settings, group, settings.topic_raw, timeout_s)


def outcome_topics(settings: Settings) -> tuple[str, str, str]:
    """Where every raw event ends up, once: real-time (accepted), rejected or the DLQ."""
    return settings.topic_realtime, settings.topic_rejected, settings.topic_dlq


async def outcomes(settings: Settings) -> int:
    async with Ends(settings, outcome_topics(settings)) as ends:
        return await ends.total()


async def wait_outcomes(settings: Settings, target: int, timeout_s: float,
                        poll: Callable[[], object] | None = None) -> None:
    """Wait until the outcome topics hold ``target`` records, calling ``poll`` at each look."""
    deadline = time.monotonic() + timeout_s
    async with Ends(settings, outcome_topics(settings)) as ends:
        while await ends.total() < target:
            if poll is not None:
                poll()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker gave fewer than {target} events an outcome in {timeout_s:.0f} s")
            await asyncio.sleep(0.25)
