"""Latency at a steady open-loop rate: raw record to real-time record, by their Kafka timestamps.

A producer sends the traffic mix at a fixed rate (half the measured maximum) whatever the worker
does, so a slow worker shows as growing latency rather than as a slower sender. Afterwards both
topics are read and joined by event_id; the longest quiet spell between real-time outputs shows a stall.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson

from pipeline import oracle
from pipeline.bench import kafka, stats
from pipeline.bench.mix import Shares, mix
from pipeline.bench.stage import WARM_UP_EVENTS, Stage, probe, wait_ready
from pipeline.bench.verify import read_outputs, slim, verdict



async def raw_times(here: Stage, run: str) -> dict[str, int]:
    """event_id -> the Kafka timestamp of its first record on ``tracking.raw`` (before any re-route)."""
    times: dict[str, int] = {}
    prefix = f"{run}:".encode()
    async for record in kafka.read(here.settings, [here.settings.topic_raw]):
        if not dict(record.headers or ()).get(oracle.HEADER, b"").startswith(prefix):
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
    wait_ready(here.worker(), started)
    probe(here, WARM_UP_EVENTS)  # the first events after "ready" also wait for the partitions' assignment
    run = uuid.uuid4().hex[:12]
    sent: dict[int, oracle.Sent] = {}

    def records() -> Iterator[kafka.Out]:
        for record in mix(run, here.updates, seed, shares, here.settings):
            sent[record.sent.seq] = slim(record.sent)
            yield kafka.out(record)

    count = asyncio.run(kafka.paced(here.settings, here.settings.topic_raw, records(), rate, seconds))
    lag = asyncio.run(kafka.wait_drained(here.settings, kafka.tracking_group(here.settings), 120))
    outputs = asyncio.run(read_outputs(here.settings, run))
    raw = asyncio.run(raw_times(here, run))
    latencies = [out - raw[e] for e, out in outputs.accepted_ms.items() if e in raw]
    verdict_ = verdict(run, sent, outputs, here.snapshot)
    if lag:
        verdict_["passed"] = False
        verdict_["problems"].insert(0, f"the tracking group did not commit all of tracking.raw: lag {lag}")
    return {
        "rate": rate, "seconds": seconds, "events": count, "joined": len(latencies),
        "p50_ms": stats.percentile(latencies, 50), "p95_ms": stats.percentile(latencies, 95),
        "p99_ms": stats.percentile(latencies, 99), "max_ms": max(latencies, default=0),
        "max_gap_ms": stats.max_gap(list(outputs.accepted_ms.values())), "oracle": verdict_,
    }
