"""Writing records as record batches, one or more per (topic, partition), and knowing when they landed.

A record batch is appended to its partition as a unit, and one produce request per batch costs far
less than a future and a callback per record. aiokafka's ``send_batch`` skips the per-record size
check that ``send`` makes, so it is made here: a record the broker would refuse for good fails
before anything of its batch is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.errors import MessageSizeTooLargeError

Headers = Sequence[tuple[str, bytes]]
OutputRecord = tuple[bytes | None, bytes | None, Headers]  # key, value, headers of a record to send
Destination = tuple[str, int]  # topic, partition
Ack = tuple[asyncio.Future, int]  # a record batch's future, and how many records it holds


async def send_records(producer: AIOKafkaProducer, destinations: Sequence[Destination],
                       records: Iterable[OutputRecord], max_record_bytes: int) -> list[list[Ack]]:
    """``records`` as record batches to each of ``destinations`` (topic, partition); the acks of each.

    One record batch per destination, unless they outgrow a batch. A record batch names no topic or
    partition, so it is built once and the same bytes go to every destination (the real-time and
    the batch copy of an accepted event): building, not sending, is what costs per record.
    """
    acks: list[list[Ack]] = [[] for _ in destinations]

    async def send(builder: BatchBuilder, count: int) -> None:
        for into, (topic, partition) in zip(acks, destinations):
            into.append((await _send(producer, builder, count, topic, partition), count))

    builder, count = producer.create_batch(), 0
    append = _appender(builder)
    for key, value, headers in records:
        if type(headers) is not list:  # what the record builder takes
            headers = list(headers)
        size = len(key or b"") + len(value or b"")
        if size > max_record_bytes:
            where = ", ".join(f"{topic}[{partition}]" for topic, partition in destinations)
            raise MessageSizeTooLargeError(f"a record of {size} bytes for {where} is over the "
                                           f"limit of {max_record_bytes} bytes")
        if append(count, None, key=key, value=value, headers=headers) is None:
            await send(builder, count)
            builder, count = producer.create_batch(), 0
            append = _appender(builder)
            append(count, None, key=key, value=value, headers=headers)
        count += 1
    await send(builder, count)
    return acks


def _appender(builder: BatchBuilder) -> Callable[..., object]:
    """The append of the record batch builder inside aiokafka's ``BatchBuilder``: (relative offset, timestamp, ...).

    ``BatchBuilder.append`` only forwards to it (counting relative offsets, applying serializers we do
    not use), at about a quarter of the cost of each record; ``_send`` sets the count it would have kept.
    """
    return builder._builder.append


async def _send(producer: AIOKafkaProducer, builder: BatchBuilder, count: int, topic: str,
                partition: int) -> asyncio.Future:
    # aiokafka builds the batch's bytes once and keeps them (``BatchBuilder._build``): a builder sent to
    # several partitions is built once. (An idempotent producer would stamp each partition's sequence
    # into the bytes; adtrack's producers are not idempotent.)
    builder._relative_offset = count
    builder.close()
    return await producer.send_batch(builder, topic, partition=partition)


def last_offset(acks: Iterable[Ack]) -> int:
    """The offset of the last record of acknowledged batches to one partition."""
    return max(future.result().offset + count - 1 for future, count in acks)
