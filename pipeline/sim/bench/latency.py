"""Latency at a steady open-loop rate: raw record to real-time record, by their Kafka timestamps.

A producer sends the traffic mix at a fixed rate (half the measured maximum) whatever the worker
does, so a slow worker shows as growing latency rather than as a slower sender. Afterwards both
topics are read and joined by event_id; the longest quiet spell between real-time outputs shows a stall.
The events sent off their campaign's partition travel twice (to the partition they were sent to, and
home from there), so their latencies are reported apart from the others' too.

Then the same traffic at the same rate goes through the bare loop (``pipeline.sim.bench.bare``, a process
of its own like the worker, the worker stopped): what the broker, the clients and this machine cost
any consumer, the floor under the worker's figures.
"""

from __future__ import annotations

import asyncio
import itertools
import selectors
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson

from config.settings import Settings
from config.topics import TopicSpec
from pipeline.kafka.admin import ensure_topics
from pipeline.sim import oracle, processes
from pipeline.sim.bench import bare, kafka, procs, stats
from pipeline.sim.bench.mix import Shares, mix
from pipeline.sim.bench.stage import WARM_UP_EVENTS, Stage, histogram, probe, wait_ready, worker_pid
from pipeline.sim.bench.verify import read_outputs, slim, verdict
from pipeline.sim.workers import worker_env

BARE_SOURCE, BARE_TARGET = "bench.latency.raw", "bench.latency.bare"
#: The worker's own part of the latency, at most: each batch from its fetch until it lands (outputs acknowledged).
BATCH_LATENCY = "adtrack_batch_latency_seconds"



async def raw_times(here: Stage, run: str, topic: str | None = None) -> dict[str, int]:
    """event_id -> the Kafka timestamp of its first record on ``tracking.raw`` (before any re-route)."""
    return await first_times(here, topic or here.settings.topic_raw, f"{run}:".encode())


async def first_times(here: Stage, topic: str, prefix: bytes | None) -> dict[str, int]:
    """event_id -> the Kafka timestamp of its first record on ``topic`` (of a run, by its oracle header)."""
    times: dict[str, int] = {}
    async for record in kafka.read(here.settings, [topic]):
        if prefix is not None and not dict(record.headers or ()).get(oracle.HEADER, b"").startswith(prefix):
            continue
        try:
            event_id = orjson.loads(record.value)["event_id"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue
        if isinstance(event_id, str) and record.timestamp < times.get(event_id, 1 << 62):
            times[event_id] = record.timestamp
    return times


def measure(here: Stage, rate: float, seconds: float, shares: Shares, seed: int) -> dict[str, Any]:
    started = time.monotonic()
    worker = here.worker()
    wait_ready(worker, started)
    probe(here, WARM_UP_EVENTS)  # the first events after "ready" also wait for the partitions' assignment
    batches_before = histogram(worker, BATCH_LATENCY)
    run = uuid.uuid4().hex[:12]
    sent: dict[int, oracle.Sent] = {}
    rerouted: set[str] = set()

    def records() -> Iterator[kafka.Out]:
        for record in mix(run, here.updates, seed, shares, here.settings):
            sent[record.sent.seq] = slim(record.sent)
            if record.rerouted:
                rerouted.add(orjson.loads(record.value)["event_id"])
            yield kafka.out(record)

    # Made before the clock starts: the sender shares the worker's two cores, and only has to send.
    traffic = list(itertools.islice(records(), int(rate * seconds)))
    pid = worker_pid(worker)
    cpu, broker_cpu = procs.cpu_seconds(pid), here.broker_cpu()
    count = asyncio.run(kafka.paced(here.settings, here.settings.topic_raw, traffic, rate, seconds))
    lag = asyncio.run(kafka.wait_drained(here.settings, kafka.tracking_group(here.settings), 120))
    worker_cpu_s, broker_cpu_s = procs.cpu_seconds(pid) - cpu, here.broker_cpu() - broker_cpu
    batches = stats.bucket_difference(histogram(worker, BATCH_LATENCY), batches_before)
    outputs = asyncio.run(read_outputs(here.settings, run))
    raw = asyncio.run(raw_times(here, run))
    by_event = {e: out - raw[e] for e, out in outputs.accepted_ms.items() if e in raw}
    latencies = list(by_event.values())
    verdict_ = verdict(run, sent, outputs, here.snapshot)
    if lag:
        verdict_["passed"] = False
        verdict_["problems"].insert(0, f"the tracking group did not commit all of tracking.raw: lag {lag}")
    return {
        "rate": rate, "seconds": seconds, "events": count, "joined": len(latencies), **percentiles(latencies),
        "max_gap_ms": stats.max_gap(list(outputs.accepted_ms.values())), "oracle": verdict_,
        "paths": paths(by_event, rerouted),
        "worker_batches": batch_figures(batches), "worker_cpu_s": worker_cpu_s, "broker_cpu_s": broker_cpu_s,
        "bare": baseline(here, rate, seconds, shares, seed),
    }


def paths(by_event: dict[str, int], rerouted: set[str]) -> dict[str, dict[str, float]]:
    """The latencies of the events sent to their campaign's partition, and of those the worker re-routed."""
    home = [ms for event_id, ms in by_event.items() if event_id not in rerouted]
    moved = [ms for event_id, ms in by_event.items() if event_id in rerouted]
    return {"home": {"events": len(home), **percentiles(home)},
            "rerouted": {"events": len(moved), **percentiles(moved)}}


def percentiles(latencies: list[int]) -> dict[str, float]:
    return {"p50_ms": stats.percentile(latencies, 50), "p95_ms": stats.percentile(latencies, 95),
            "p99_ms": stats.percentile(latencies, 99), "max_ms": max(latencies, default=0)}


def batch_figures(buckets: list[tuple[float, float]]) -> dict[str, float]:
    """The worker's batches of the phase: how many, and the bucket bounds (ms) of their p50 and p99."""
    return {"batches": buckets[-1][1] if buckets else 0,
            "p50_ms_at_most": stats.bucket_quantile(buckets, 0.50) * 1000,
            "p99_ms_at_most": stats.bucket_quantile(buckets, 0.99) * 1000}


def baseline(here: Stage, rate: float, seconds: float, shares: Shares, seed: int) -> dict[str, Any]:
    """The same traffic at the same rate through the bare loop, on topics of its own; its latency figures."""
    for worker in here.workers:
        worker.stop()
    settings = here.settings
    asyncio.run(ensure_topics(settings, [TopicSpec(BARE_SOURCE, settings.partitions),
                                         TopicSpec(BARE_TARGET, settings.partitions)]))
    process = subprocess.Popen(bare.command(BARE_SOURCE, BARE_TARGET),
                               env=worker_env(settings.kafka_bootstrap_servers, settings.app_id),
                               stdout=subprocess.PIPE, text=True)
    try:
        _wait_for_line(process, bare.ASSIGNED, 120.0)
        run = uuid.uuid4().hex[:12]
        records = [kafka.out(r) for r in itertools.islice(mix(run, here.updates, seed, shares, settings),
                                                          int(rate * seconds))]
        cpu, broker_cpu = procs.cpu_seconds(process.pid), here.broker_cpu()
        count = asyncio.run(kafka.paced(settings, BARE_SOURCE, records, rate, seconds))
        asyncio.run(_wait_total(settings, BARE_TARGET, count, 120.0))
        bare_cpu_s, broker_cpu_s = procs.cpu_seconds(process.pid) - cpu, here.broker_cpu() - broker_cpu
    finally:
        processes.stop(process, 10)
    raw = asyncio.run(raw_times(here, run, BARE_SOURCE))
    out = asyncio.run(first_times(here, BARE_TARGET, None))  # the bare loop keeps no headers
    latencies = [when - raw[e] for e, when in out.items() if e in raw]
    return {"events": count, "joined": len(latencies), **percentiles(latencies),
            "cpu_s": bare_cpu_s, "broker_cpu_s": broker_cpu_s}


def _wait_for_line(process: subprocess.Popen[str], line: str, timeout_s: float) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=0.5) and line in process.stdout.readline():
                return
            if process.poll() is not None:
                raise TimeoutError(f"the bare loop exited with code {process.returncode} before it was assigned")
    raise TimeoutError(f"the bare loop was not assigned its partitions in {timeout_s:.0f} s")


async def _wait_total(settings: Settings, topic: str, count: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    async with kafka.Ends(settings, [topic]) as ends:
        while await ends.total() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bare loop moved fewer than {count} records in {timeout_s:.0f} s")
            await asyncio.sleep(0.25)
