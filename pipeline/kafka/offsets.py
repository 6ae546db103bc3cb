"""End offsets confirmed by a fetch: the one way adtrack learns where a partition ends.

The embedded broker answers ListOffsets(latest) with the base offset of the last record batch plus
one, not the offset after the last record, so a reader that stops at the reported end misses the rest
of the last batch. A fetch response carries the true high watermark: every end is confirmed by
fetching at the reported end minus one. On Apache Kafka the two agree and this costs one fetch per
partition. An end that no fetch confirms in time is an error naming the partition, never the short
reported one (docs/decisions/0001-confirmed-end-offsets.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

from config.settings import Settings
from pipeline.domain.errors import EndOffsetError
from pipeline.kafka import clients

Partition = TypeVar("Partition")  # an aiokafka or Faust TopicPartition: anything with topic and partition
TIMEOUT_S = 5.0


async def end_offsets(settings: Settings, tps: Iterable[TopicPartition], timeout_s: float = TIMEOUT_S
                      ) -> dict[TopicPartition, int]:
    """The confirmed end of every partition of ``tps``, read with a consumer of its own."""
    tps = list(tps)
    if not tps:
        return {}
    async with _probe(settings) as probe:
        return await _assigned_ends(probe, tps, timeout_s)


async def topic_end_offsets(settings: Settings, topic: str, timeout_s: float = TIMEOUT_S
                            ) -> dict[TopicPartition, int]:
    """The confirmed end of every partition of ``topic`` (empty for a topic that does not exist)."""
    async with _probe(settings) as probe:
        await probe.topics()  # the metadata partitions_for_topic answers from
        tps = [TopicPartition(topic, p) for p in sorted(probe.partitions_for_topic(topic) or ())]
        return await _assigned_ends(probe, tps, timeout_s)


async def _assigned_ends(probe: AIOKafkaConsumer, tps: list[TopicPartition], timeout_s: float
                         ) -> dict[TopicPartition, int]:
    if not tps:
        return {}
    probe.assign(tps)
    return await confirm(probe, await probe.end_offsets(tps), timeout_s)


@contextlib.asynccontextmanager
async def _probe(settings: Settings) -> AsyncIterator[AIOKafkaConsumer]:
    probe = clients.consumer(settings, enable_auto_commit=False)
    await probe.start()
    try:
        yield probe
    finally:
        await probe.stop()


async def confirmed_end_offsets(reported: Mapping[Partition, int], settings: Settings,
                                timeout_s: float = TIMEOUT_S) -> dict[Partition, int]:
    """``reported`` (a ListOffsets answer another client got) confirmed with a consumer of its own."""
    probed = [tp for tp, end in reported.items() if end is not None and end > 0]
    if not probed:
        return dict(reported)
    tps = {TopicPartition(tp.topic, tp.partition): tp for tp in probed}
    async with _probe(settings) as probe:
        probe.assign(list(tps))
        confirmed = await confirm(probe, {tp: reported[original] for tp, original in tps.items()}, timeout_s)
    return {**reported, **{tps[tp]: end for tp, end in confirmed.items()}}


async def confirm(consumer: AIOKafkaConsumer, reported: Mapping[TopicPartition, int],
                  timeout_s: float = TIMEOUT_S) -> dict[TopicPartition, int]:
    """``reported`` ends confirmed by fetches of ``consumer``, which has those partitions assigned.

    It moves the consumer's positions: seek where reading should start afterwards. Raises
    ``EndOffsetError`` naming every partition whose end no fetch confirmed within ``timeout_s``.
    """
    ends = dict(reported)
    probed = [tp for tp, end in reported.items() if end > 0]  # the reported end of a record is never 0
    for tp in probed:
        consumer.seek(tp, reported[tp] - 1)
    deadline = time.monotonic() + timeout_s
    pending = set(probed)
    while pending:
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            names = ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in pending))
            raise EndOffsetError(f"no fetch confirmed the end offset of {names} within {timeout_s:.0f} s")
        await consumer.getmany(*pending, timeout_ms=min(left_ms, 500), max_records=len(pending))
        pending = {tp for tp in pending if consumer.highwater(tp) is None}
    for tp in probed:
        ends[tp] = max(reported[tp], consumer.highwater(tp))
    return ends


def progress_rows(ends: Mapping[TopicPartition, int], committed: Mapping[TopicPartition, Any]
                  ) -> list[dict[str, Any]]:
    """``{"partition", "end", "committed", "lag"}`` per partition of ``ends``; ``committed`` holds the
    group's OffsetAndMetadata (committed None where the group has committed nothing)."""
    rows = []
    for tp, end in ends.items():
        done = committed.get(tp)
        position = done.offset if done is not None and done.offset >= 0 else None
        rows.append({"partition": tp.partition, "end": end, "committed": position,
                     "lag": max(0, end - (position or 0))})
    return rows


async def group_progress(settings: Settings, group: str, topic: str) -> list[dict[str, Any]]:
    """How far ``group`` is through ``topic``: ``progress_rows`` with ends confirmed by a fetch."""
    ends = await topic_end_offsets(settings, topic)
    admin = clients.admin(settings)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=list(ends))
    finally:
        await admin.close()
    return progress_rows(ends, committed)


async def lag(settings: Settings, group: str, topic: str) -> dict[int, int]:
    """Records of ``topic`` that ``group`` has not committed yet, per partition behind (empty when none)."""
    return {row["partition"]: row["lag"] for row in await group_progress(settings, group, topic) if row["lag"]}


async def wait_drained(settings: Settings, group: str, topic: str, timeout_s: float) -> dict[int, int]:
    """Wait until ``group`` committed all of ``topic`` twice in a row; returns the lag left (empty when none).

    Twice, because a record re-routed or re-sent behind the first look would be missed by one. A look
    whose ends no fetch confirmed in time (a broker slow to answer, as the embedded one is after
    minutes of traffic) is taken again while time is left; if the last look failed so, its error is raised.
    """
    deadline, stable, left = time.monotonic() + timeout_s, 0, {}
    failed: EndOffsetError | None = None
    while time.monotonic() < deadline:
        try:
            left, failed = await lag(settings, group, topic), None
        except EndOffsetError as exc:
            failed, stable = exc, 0
        else:
            stable = stable + 1 if not left else 0
            if stable >= 2:
                return {}
        await asyncio.sleep(0.5)
    if failed is not None:
        raise failed
    return left
