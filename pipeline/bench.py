"""``python -m pipeline bench``: how fast one worker drains a backlog, against a bare aiokafka loop.

Both runs read the same preloaded backlog of generated traffic from ``tracking.raw`` on the same
broker. The baseline is the least any consumer can do: consume, decode JSON, encode JSON, produce,
commit. The pipeline run starts one real worker once the backlog is written and times it from
"ready" until every event has its outcome on ``tracking.realtime``, ``tracking.rejected`` or
``tracking.dlq``. The worker's resident memory is sampled while it works. Nothing here asserts
a speed: it measures and prints.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from config.clients import aiokafka_options
from config.settings import Settings
from pipeline.admin import ensure_topics_sync
from pipeline.broker import EmbeddedBroker
from pipeline.generator import SAMPLE_CORE_DATA, generate
from pipeline.loader import publish_updates, read_updates
from pipeline.soak import worker_env
from pipeline.transport import confirmed_end_offsets
from pipeline.workers import Worker, wait_until

SCRATCH_TOPIC = "bench.baseline"


@dataclasses.dataclass
class Run:
    name: str
    events: int
    seconds: float
    rss_mib: tuple[float, float] | None = None  # (first, last) sample while working

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def backlog(settings: Settings, count: int, invalid_ratio: float, seed: int) -> Iterator[tuple[bytes | None, bytes]]:
    updates = read_updates(SAMPLE_CORE_DATA)
    items = generate(updates, random.Random(seed), invalid_ratio, lambda: int(time.time() * 1000), settings)
    for _ in range(count):
        item = next(items)
        yield item.key, item.value


async def preload(settings: Settings, records: Iterator[tuple[bytes | None, bytes]]) -> int:
    producer = AIOKafkaProducer(linger_ms=20, max_batch_size=1 << 20, max_request_size=1 << 22,
                                **aiokafka_options(settings))
    await producer.start()
    try:
        pending, sent = [], 0
        for key, value in records:
            pending.append(await producer.send(settings.topic_raw, value=value, key=key))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                sent, pending = sent + len(pending), []
        await asyncio.gather(*pending)
        return sent + len(pending)
    finally:
        await producer.stop()


async def baseline(settings: Settings, count: int) -> Run:
    """Consume, decode, encode, produce, commit: the floor any consumer of ``tracking.raw`` pays."""
    options = aiokafka_options(settings)
    consumer = AIOKafkaConsumer(settings.topic_raw, group_id=f"bench-baseline-{uuid.uuid4().hex[:8]}",
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                max_partition_fetch_bytes=1 << 20, **options)
    producer = AIOKafkaProducer(linger_ms=5, max_batch_size=1 << 18, **options)
    await producer.start()
    await consumer.start()
    try:
        done, started = 0, None
        while done < count:
            batches = await consumer.getmany(timeout_ms=1000)
            if started is None and batches:
                started = time.perf_counter()
            futures = []
            for records in batches.values():
                for record in records:
                    try:
                        value = orjson.dumps(orjson.loads(record.value))
                    except orjson.JSONDecodeError:
                        value = record.value
                    futures.append(await producer.send(SCRATCH_TOPIC, value=value, key=record.key))
            await asyncio.gather(*futures)
            if batches:
                await consumer.commit()
            done += len(futures)
        return Run("bare aiokafka loop", done, time.perf_counter() - (started or time.perf_counter()))
    finally:
        await consumer.stop()
        await producer.stop()


async def outcomes(settings: Settings) -> int:
    """Records on the three outcome topics (every raw event lands on exactly one of them)."""
    options = aiokafka_options(settings)
    consumer = AIOKafkaConsumer(**options)
    await consumer.start()
    try:
        topics = (settings.topic_realtime, settings.topic_rejected, settings.topic_dlq)
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        ends = await confirmed_end_offsets(await consumer.end_offsets(tps), options)
        return sum(ends.values())
    finally:
        await consumer.stop()


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pipeline_run(settings: Settings, events: int, target: int, home: Path, timeout_s: float) -> Run:
    """One worker started on the backlog, timed from ready until the outcome topics hold ``target`` records."""
    worker = Worker(worker_env(settings), home / "worker", home / "worker.log").start()
    try:
        worker.wait_ready(120)
        started = time.perf_counter()
        assert worker.process is not None
        samples = [rss_mib(worker.process.pid)]

        def drained() -> bool:
            samples.append(rss_mib(worker.process.pid))
            return asyncio.run(outcomes(settings)) >= target

        wait_until(drained, timeout_s, f"the worker to give {events} events an outcome", interval=0.25)
        return Run("adtrack worker", events, time.perf_counter() - started, (samples[0], samples[-1]))
    finally:
        worker.stop()


def table(runs: list[Run]) -> str:
    base = next((r.rate for r in runs if r.name.startswith("bare")), 0.0)
    lines = [f"{'run':<20} {'events':>8} {'seconds':>8} {'events/s':>9} {'x bare':>7} {'RSS MiB':>14}"]
    for r in runs:
        ratio = f"{r.rate / base:.2f}" if base else "-"
        rss = f"{r.rss_mib[0]:.0f} -> {r.rss_mib[1]:.0f}" if r.rss_mib else "-"
        lines.append(f"{r.name:<20} {r.events:>8} {r.seconds:>8.2f} {r.rate:>9.0f} {ratio:>7} {rss:>14}")
    return "\n".join(lines)


def run(count: int, invalid_ratio: float, seed: int, bootstrap: str | None, skip_baseline: bool) -> int:
    home = Path(tempfile.mkdtemp(prefix="adtrack-bench-"))
    broker = EmbeddedBroker(log_path=home / "broker.log") if bootstrap is None else None
    try:
        if broker is not None:
            broker.start()
        settings = dataclasses.replace(
            Settings(), kafka_bootstrap_servers=bootstrap or broker.bootstrap, app_id=f"adtrack-bench-{uuid.uuid4().hex[:8]}"
        )
        ensure_topics_sync(settings)
        publish_updates(settings, read_updates(SAMPLE_CORE_DATA))
        before = asyncio.run(outcomes(settings))
        written = asyncio.run(preload(settings, backlog(settings, count, invalid_ratio, seed)))
        print(f"bench: {written} events on {settings.topic_raw} ({invalid_ratio:.0%} invalid), "
              f"max RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB", flush=True)
        runs = []
        if not skip_baseline:
            runs.append(asyncio.run(baseline(settings, written)))
        runs.append(pipeline_run(settings, written, before + written, home, timeout_s=max(120.0, written / 200)))
        print(table(runs), flush=True)
        return 0
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(home, ignore_errors=True)
