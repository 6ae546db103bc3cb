"""The records of a topic as the back-office commands read and write them, as any client of the workers would.

Each read has its own consumer, with no group, that never creates a topic. End offsets come from fetch
responses: the embedded broker's ListOffsets can fall short of the last record
(docs/decisions/0001-confirmed-end-offsets.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing
from typing import TypeVar

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from config.settings import Settings
from pipeline.domain.errors import AdtrackError
from pipeline.kafka import clients
from pipeline.kafka.admin import ensure_topics_sync

K = TypeVar("K")
V = TypeVar("V")
#: (key, value) of the records of a topic
Pairs = Iterable[tuple[bytes | None, bytes | None]]

READ_TIMEOUT_S = 15.0  # to read a topic to its end


def latest(records: Iterable[tuple[K, V | None]]) -> dict[K, V]:
    """What a compacted topic holds: the last value per key, and no key whose last value is a tombstone."""
    folded: dict[K, V] = {}
    for key, value in records:
        if value is None:
            folded.pop(key, None)
        else:
            folded[key] = value
    return folded


def _consumer(settings: Settings) -> KafkaConsumer:
    return clients.blocking_consumer(settings, enable_auto_commit=False, allow_auto_create_topics=False,
                                     auto_offset_reset="earliest", fetch_max_wait_ms=100)


def _assign(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(tps)
    return tps


def _poll_until(consumer: KafkaConsumer, topic: str, done: Callable[[], bool]) -> list[ConsumerRecord]:
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + READ_TIMEOUT_S
    while not done():
        if time.monotonic() > deadline:
            raise AdtrackError(f"could not read {topic} to its end within {READ_TIMEOUT_S:.0f} s")
        for batch in consumer.poll(timeout_ms=100).values():
            records.extend(batch)
    return records


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """The offset after the last record, per partition; ``{}`` for a topic that does not exist yet."""
    with closing(_consumer(settings)) as consumer:
        if not (tps := _assign(consumer, topic)):
            return {}
        consumer.seek_to_end(*tps)
        _poll_until(consumer, topic, lambda: all(consumer.highwater(tp) is not None for tp in tps))
        return {tp.partition: consumer.highwater(tp) for tp in tps}


def read_topic(settings: Settings, topic: str) -> list[ConsumerRecord]:
    """Every record on ``topic`` now, in offset order per partition; none for a topic that does not exist."""
    with closing(_consumer(settings)) as consumer:
        if not (tps := _assign(consumer, topic)):
            return []
        consumer.seek_to_beginning(*tps)

        def caught_up() -> bool:
            return all((end := consumer.highwater(tp)) is not None and consumer.position(tp) >= end for tp in tps)

        return _poll_until(consumer, topic, caught_up)


def follow(
    settings: Settings, topic: str, start: Mapping[int, int], timeout_s: float | None = None
) -> Iterator[ConsumerRecord]:
    """The records of ``topic`` from ``start`` (a partition not named starts at its beginning) as they arrive.

    Ends after ``timeout_s`` (never when None); a topic that does not exist yet is waited for.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    with closing(_consumer(settings)) as consumer:
        while not (tps := _assign(consumer, topic)):
            if deadline is not None and time.monotonic() > deadline:
                return
            time.sleep(0.5)
        for tp in tps:
            consumer.seek(tp, start.get(tp.partition, 0))
        while deadline is None or time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                yield from batch


def first(records: Iterable[ConsumerRecord], match: Callable[[ConsumerRecord], bool]) -> ConsumerRecord | None:
    return next((r for r in records if match(r)), None)


def send(settings: Settings, topic: str, key: bytes, value: bytes | None) -> None:
    ensure_topics_sync(settings)
    producer = clients.blocking_producer(settings, acks="all", linger_ms=0)
    try:
        producer.send(topic, key=key, value=value).get(timeout=10)
    finally:
        producer.close()
