"""Writing records as record batches, one or more per (topic, partition), and knowing when they landed.

A record batch is appended to its partition as a unit, and one produce request per batch costs far
less than a future and a callback per record. aiokafka's ``send_batch`` skips the per-record size
check that ``send`` makes, so it is made here: a record the broker would refuse for good fails
before anything of its batch is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

Headers = Sequence[tuple[str, bytes]]
OutputRecord = tuple[bytes | None, bytes | None, Headers]  # key, value, headers of a record to send
Ack = tuple[asyncio.Future, int]  # a record batch's future, and how many records it holds


async def send_records(producer: AIOKafkaProducer, topic: str, partition: int, records: Iterable[OutputRecord],
                       max_record_bytes: int) -> list[Ack]:
    """``records`` as record batches to one partition: one, unless they outgrow a batch."""
    acks = []
    builder, count = producer.create_batch(), 0
    for key, value, headers in records:
        if type(headers) is not list:  # what the record builder takes
            headers = list(headers)
        size = len(key or b"") + len(value or b"")
        if size > max_record_bytes:
            raise MessageSizeTooLargeError(f"a record of {size} bytes for {topic}[{partition}] is over the "
                                           f"limit of {max_record_bytes} bytes")
        if builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
            acks.append((await producer.send_batch(builder, topic, partition=partition), count))
            builder, count = producer.create_batch(), 0
            builder.append(key=key, value=value, timestamp=None, headers=headers)
        count += 1
    acks.append((await producer.send_batch(builder, topic, partition=partition), count))
    return acks


def last_offset(acks: Iterable[Ack]) -> int:
    """The offset of the last record of acknowledged batches to one partition."""
    return max(future.result().offset + count - 1 for future, count in acks)
