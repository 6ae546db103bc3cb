"""The bench's open-loop sender (pipeline/sim/bench/kafka.py ``paced``) on the embedded broker."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from config.topics import TopicSpec
from pipeline.kafka.admin import ensure_topics
from pipeline.sim.bench import kafka

pytestmark = pytest.mark.integration

RATE, SECONDS = 2_000.0, 0.5  # 1 000 records, due every 0.5 ms


def records(count: int) -> list[kafka.Out]:
    return [(n % 2, b"key", str(n).encode(), [("seq", str(n).encode())]) for n in range(count)]


async def sent_and_read(settings, topic: str, given: list[kafka.Out]) -> tuple[int, list]:
    await ensure_topics(settings, [TopicSpec(topic, 2)])
    count = await kafka.paced(settings, topic, given, RATE, SECONDS)
    return count, [record async for record in kafka.read(settings, [topic])]


def test_every_record_is_sent_to_its_partition_stamped_with_the_time_it_was_due(settings) -> None:
    count, read = asyncio.run(sent_and_read(settings, "bench.paced", records(2_000)))
    assert count == int(RATE * SECONDS) == len(read)  # the rest of what was given is not sent
    by_seq = {int(record.value): record for record in read}
    assert sorted(by_seq) == list(range(count))
    assert all(record.partition == seq % 2 and record.key == b"key" for seq, record in by_seq.items())
    assert all(dict(record.headers)["seq"] == str(seq).encode() for seq, record in by_seq.items())
    first = by_seq[0].timestamp
    # Record n is due n / rate after the first, whenever the sender got to it (rounded to the ms).
    assert all(abs(record.timestamp - (first + seq * 1000 / RATE)) <= 1 for seq, record in by_seq.items())


def test_a_sender_given_fewer_records_sends_them_all_and_stops(settings) -> None:
    quiet = dataclasses.replace(settings, producer_linger_ms=20)  # fewer, larger record batches
    count, read = asyncio.run(sent_and_read(quiet, "bench.paced.short", records(300)))
    assert count == 300 == len(read)
