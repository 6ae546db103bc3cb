"""Fetched records must follow on from the last ones taken: a hole is fetched again, never stepped over.

On a topic that is neither compacted nor written in transactions, a partition's offsets have no
holes. The embedded broker, when busy, sometimes answers a fetch at offset N with a later record
batch: in a latency run it was asked for ``tracking.raw[0]`` at 1602 and returned 1690..1691. aiokafka
takes what comes and moves its position past the hole, so 88 records would have been skipped as if
read, and their offsets committed with the next batch.

``Contiguity`` keeps, per partition, the offset the next record must have. Records that do not
start there are not handed over: the consumer is sent back to that offset and fetches again. A
batch with a hole inside is handed over up to the hole, and fetched again from there. A hole still
there after ``MAX_REFETCHES`` fetches in a row is what the log holds (on Apache Kafka: transaction
markers or aborted records): it is logged as an error with its place and stepped over
(docs/decisions/0005-holes-are-fetched-again.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition

from pipeline.runtime.metrics import fetch_gaps

log = logging.getLogger(__name__)

#: Fetches of the same hole before it is taken for what the log holds.
MAX_REFETCHES = 3


class Fetched(Protocol):
    offset: int


def contiguous(records: Sequence[Fetched], expected: int | None) -> int:
    """How many of ``records`` (as fetched) follow on from ``expected`` without a hole.

    ``expected`` None: the partition's first fetch since it was assigned, nothing to follow on from.
    """
    if not records or (expected is not None and records[0].offset != expected):
        return 0
    first = records[0].offset
    for index, record in enumerate(records):
        if record.offset != first + index:
            return index
    return len(records)


class Contiguity:
    """The offset each partition's next record must have, for one consumer; sends it back over holes."""

    def __init__(self, consumer: AIOKafkaConsumer, max_refetches: int = MAX_REFETCHES) -> None:
        self.consumer = consumer
        self.max_refetches = max_refetches
        self._next: dict[TopicPartition, int] = {}
        self._refetches: dict[TopicPartition, int] = {}

    def expect(self, tp: TopicPartition, offset: int | None) -> None:
        """Where ``tp`` goes on from (its committed offset after an assignment; None if unknown)."""
        self._refetches.pop(tp, None)
        if offset is None:
            self._next.pop(tp, None)
        else:
            self._next[tp] = offset

    async def assigned(self, tps: list[TopicPartition]) -> None:
        """After an assignment: each partition goes on from its committed offset, or its first if it has none."""
        starts = await self.consumer.beginning_offsets(tps)
        self._next.clear()  # a partition revoked, then assigned again, goes on from its new commit
        for tp in tps:
            committed = await self.consumer.committed(tp)
            self.expect(tp, starts[tp] if committed is None else committed)

    def take(self, tp: TopicPartition, records: list) -> list:
        """The records of a fetch that follow on without a hole; the consumer fetches the rest again."""
        if not records:
            return records
        expected = self._next.get(tp)
        count = contiguous(records, expected)
        if count == 0:
            assert expected is not None
            tries = self._refetches.get(tp, 0) + 1
            if tries <= self.max_refetches:
                self._refetches[tp] = tries
                log.warning("%s[%d]: asked for offset %d, the broker returned %d..%d; fetching again from %d",
                            tp.topic, tp.partition, expected, records[0].offset, records[-1].offset, expected)
                fetch_gaps.labels(tp.topic, "refetched").inc()
                self.consumer.seek(tp, expected)
                return []
            log.error("%s[%d]: offsets %d..%d were not returned in %d fetches: the log has none there; going on "
                      "from %d", tp.topic, tp.partition, expected, records[0].offset - 1, tries, records[0].offset)
            fetch_gaps.labels(tp.topic, "stepped_over").inc()
            count = contiguous(records, None)
        self._refetches.pop(tp, None)
        if count < len(records):
            after = records[count - 1].offset + 1
            log.warning("%s[%d]: a hole after offset %d in a fetch (next returned: %d); fetching again from %d",
                        tp.topic, tp.partition, after - 1, records[count].offset, after)
            fetch_gaps.labels(tp.topic, "refetched").inc()
            self.consumer.seek(tp, after)
            records = records[:count]
        self._next[tp] = records[-1].offset + 1
        return records
