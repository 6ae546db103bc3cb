"""``python -m pipeline archive``: the loop that turns ``tracking.batch`` into files, glue only.

A process of its own in the group ``<app_id>-archive``. Per partition it buffers rows until
``--max-records`` rows or ``--max-seconds`` since the roll's first record, then makes the roll durable
(``pipeline.archive.writer``) and only then commits the offset after it. A record that is not an
enriched record is dead-lettered to ``tracking.archive.dlq``; its dead letter is acknowledged before
the offset after it is committed. On every assignment a partition's unfinished rolls are finished or
removed, and it resumes after the highest offset already in a file (``pipeline.archive.resume``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from config.settings import Settings
from config.topics import DLQ_MAX_BYTES
from pipeline.archive import resume, writer
from pipeline.archive.naming import hour_of
from pipeline.archive.schema import Garbage, Row, to_row, to_table
from pipeline.domain.dlq import dead_letter_record, record_limit
from pipeline.kafka import clients
from pipeline.kafka.admin import check_brokers, ensure_topics
from pipeline.kafka.contiguity import Contiguity
from pipeline.runtime.tally import Tally

log = logging.getLogger(__name__)

FETCH_RECORDS = 5000
DLQ_LIMIT = record_limit(DLQ_MAX_BYTES, DLQ_MAX_BYTES)


@dataclasses.dataclass
class Roll:
    """What one partition has read since its last durable roll."""

    rows: list[Row] = dataclasses.field(default_factory=list)
    first: int | None = None  # offsets of the records read, garbage included
    next: int | None = None
    started: float = 0.0
    dead_letters: list[asyncio.Future] = dataclasses.field(default_factory=list)

    def add(self, offset: int) -> None:
        if self.first is None:
            self.first, self.started = offset, time.monotonic()
        self.next = offset + 1


class Listener(ConsumerRebalanceListener):
    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.archive.revoke(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.archive.assign(assigned)


class Archive:
    def __init__(self, settings: Settings, out: Path, max_records: int, max_seconds: float) -> None:
        self.settings, self.out, self.max_records, self.max_seconds = settings, out, max_records, max_seconds
        self.topic = settings.topic_batch
        self.rolls: dict[int, Roll] = {}
        self.lock = asyncio.Lock()
        self.tally = Tally("dead-lettered", settings.dlq_log_interval_s)
        self.consumer: AIOKafkaConsumer | None = None
        self.contiguity: Contiguity | None = None
        self.producer: AIOKafkaProducer | None = None

    async def run(self, stop: asyncio.Event) -> None:
        await check_brokers(self.settings)
        await ensure_topics(self.settings, check=True)
        self.producer = clients.producer(self.settings, acks="all", max_request_size=DLQ_MAX_BYTES)
        await self.producer.start()
        self.consumer = clients.consumer(
            self.settings, group_id=self.settings.archive_group, enable_auto_commit=False, auto_offset_reset="earliest",
            rebalance_timeout_ms=int(self.settings.rebalance_timeout_s * 1000),
            session_timeout_ms=int(self.settings.session_timeout_s * 1000),
            heartbeat_interval_ms=int(min(3.0, self.settings.session_timeout_s / 3) * 1000),
            max_partition_fetch_bytes=4 << 20, fetch_max_bytes=16 << 20)
        self.contiguity = Contiguity(self.consumer)  # a hole in a fetch is fetched again, never archived over
        self.consumer.subscribe([self.topic], listener=Listener(self))
        try:
            await self.consumer.start()
            log.info("archiving %s into %s in group %s", self.topic, self.out / "tracking", self.settings.archive_group)
            while not stop.is_set():
                # aiokafka hands out no record fetched before a rebalance or a seek: what comes is where we are.
                fetched = await self.consumer.getmany(timeout_ms=self.wait_ms(), max_records=FETCH_RECORDS)
                async with self.lock:
                    for tp, records in fetched.items():
                        await self.read(tp.partition, records)
                    await self.roll_due()
            async with self.lock:
                await self.roll(list(self.rolls))
        finally:
            await self.consumer.stop()  # leaves the group: the partitions move at once
            await self.producer.stop()

    def wait_ms(self) -> int:
        """Until the oldest roll is due, at most half a second."""
        started = [r.started for r in self.rolls.values() if r.first is not None]
        if not started:
            return 500
        return max(0, min(500, int((min(started) + self.max_seconds - time.monotonic()) * 1000)))

    async def read(self, partition: int, records: list[Any]) -> None:
        roll = self.rolls.get(partition)
        if roll is None:
            return  # revoked since the fetch: its new owner reads these
        assert self.contiguity is not None
        for record in self.contiguity.take(TopicPartition(self.topic, partition), records):
            if roll.next is not None and record.offset < roll.next:
                continue  # read already: never twice in a roll
            row = to_row(record.value, partition, record.offset)
            if isinstance(row, Garbage):
                roll.dead_letters.append(await self.dead_letter(record, row))
            else:
                roll.rows.append(row)
            roll.add(record.offset)
            if len(roll.rows) >= self.max_records:
                await self.roll([partition])
                roll = self.rolls[partition]  # a new one

    async def dead_letter(self, record: Any, garbage: Garbage) -> asyncio.Future:
        assert self.producer is not None
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        log.debug("dead-lettering %s: %s: %s", where, garbage.reason, garbage.error)
        for line in self.tally.add(garbage.reason, where):
            log.warning("%s", line)
        key, value, headers = dead_letter_record(record, reason=garbage.reason, error=garbage.error,
                                                 stage="archive", at=int(time.time() * 1000), limit=DLQ_LIMIT)
        return await self.producer.send(self.settings.topic_archive_dlq, value=value, key=key, headers=headers)

    async def roll_due(self) -> None:
        now = time.monotonic()
        await self.roll([p for p, r in self.rolls.items() if r.first is not None and now - r.started >= self.max_seconds])

    async def roll(self, partitions: list[int]) -> None:
        """Make these partitions' rolls durable, then commit the offsets after them."""
        assert self.consumer is not None
        offsets: dict[TopicPartition, int] = {}
        for p in partitions:
            roll = self.rolls.get(p)
            if roll is None or roll.first is None or roll.next is None:
                continue
            await asyncio.gather(*roll.dead_letters)  # a dead letter that failed stops the archive uncommitted
            if roll.rows:
                by_hour: dict[int, list[Row]] = defaultdict(list)
                for row in roll.rows:
                    by_hour[hour_of(row["ts"])].append(row)
                tables = {hour: to_table(rows) for hour, rows in by_hour.items()}
                paths = await asyncio.to_thread(writer.write_roll, self.out, p, tables, roll.first, roll.next - 1)
                log.info("archived %s[%d] offsets %d-%d: %d rows in %s", self.topic, p, roll.first, roll.next - 1,
                         len(roll.rows), ", ".join(str(path.relative_to(self.out)) for path in paths))
            offsets[TopicPartition(self.topic, p)] = roll.next
            self.rolls[p] = Roll()
        if offsets:
            try:
                await self.consumer.commit(offsets)
            except KafkaError as exc:  # the files are durable: they, not the commit, say where to resume
                log.warning("could not commit %s (a rebalance?): %s; the files say where to resume", offsets, exc)

    async def revoke(self, revoked: set[TopicPartition]) -> None:
        async with self.lock:
            mine = [tp.partition for tp in revoked if tp.topic == self.topic]
            await self.roll(mine)
            for p in mine:
                self.rolls.pop(p, None)
                if self.contiguity is not None:
                    self.contiguity.expect(TopicPartition(self.topic, p), None)

    async def assign(self, assigned: set[TopicPartition]) -> None:
        assert self.consumer is not None
        async with self.lock:
            partitions = sorted(tp.partition for tp in assigned if tp.topic == self.topic)
            moved, removed = await asyncio.to_thread(writer.recover, self.out, partitions)
            if moved or removed:
                log.warning("after a crash: %d file(s) of journaled rolls moved into place, %d temporary file(s) "
                            "removed", moved, removed)
            found = await asyncio.to_thread(lambda: [f.file for f in resume.files(self.out)])
            highest = resume.highest(found)
            for p in partitions:
                tp = TopicPartition(self.topic, p)
                committed = await self.consumer.committed(tp)
                at = resume.resume_at(committed, highest.get(p))
                if at is not None and at != committed:
                    self.consumer.seek(tp, at)
                assert self.contiguity is not None
                self.contiguity.expect(tp, at if at is not None else (await self.consumer.beginning_offsets([tp]))[tp])
                log.info("archive assigned %s; resumes at %s (committed %s, highest in files %s)",
                         tp, "the reset" if at is None else at, committed, highest.get(p))
                self.rolls[p] = Roll()


def run(settings: Settings, out: Path, max_records: int, max_seconds: float) -> int:
    """The archive until SIGTERM or Ctrl-C, which roll what was read and commit it before exiting."""
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await Archive(settings, out, max_records, max_seconds).run(stop)

    asyncio.run(main())
    return 0
