"""Memory over time: a worker under steady traffic with a short dedupe window, its RSS every 5 s.

With ``ADTRACK_DEDUPE_WINDOW_S=60`` the accepted event_ids a worker remembers should stop growing
after a minute, and so should its memory: the slope of RSS (MiB/min, least squares) over the samples
after the warm-up tells whether it does. The events are not judged one by one (a long soak would not
fit in memory); the worker must still give every event an outcome and commit all of ``tracking.raw``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from typing import Any

from pipeline.bench import kafka, procs, stats
from pipeline.bench.mix import Shares, mix
from pipeline.bench.stage import WARM_UP_EVENTS, Stage, probe, wait_ready, worker_pid

DEDUPE_WINDOW_S = 60
SAMPLE_EVERY_S = 5.0
WARM_UP_S = 60.0


def warm_up(seconds: float) -> float:
    """The first minute, or the first third of a soak shorter than three minutes."""
    return min(WARM_UP_S, seconds / 3)


def soak(here: Stage, rate: float, seconds: float, shares: Shares, seed: int) -> dict[str, Any]:
    started = time.monotonic()
    worker = here.worker(ADTRACK_DEDUPE_WINDOW_S=str(DEDUPE_WINDOW_S))
    wait_ready(worker, started)
    probe(here, WARM_UP_EVENTS)
    pid, cpu = worker_pid(worker), procs.cpu_seconds(worker_pid(worker))
    samples: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample() -> None:
        began = time.monotonic()
        while True:
            samples.append((time.monotonic() - began, procs.rss_mib(pid)))
            if stop.wait(SAMPLE_EVERY_S):
                return

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    try:
        settings = dataclasses.replace(here.settings, dedupe_window_s=DEDUPE_WINDOW_S)  # stale events by this window
        traffic = (kafka.out(r) for r in mix(uuid.uuid4().hex[:12], here.updates, seed, shares, settings))
        count = asyncio.run(kafka.paced(here.settings, here.settings.topic_raw, traffic, rate, seconds))
        lag = asyncio.run(kafka.wait_drained(here.settings, kafka.tracking_group(here.settings), 120))
    finally:
        stop.set()
        sampler.join(10)
    outcomes = asyncio.run(kafka.outcomes(here.settings))
    after = [(t / 60, mib) for t, mib in samples if t >= warm_up(seconds)]
    return {
        "seconds": seconds, "rate": rate, "events": count, "dedupe_window_s": DEDUPE_WINDOW_S,
        "warm_up_s": warm_up(seconds), "rss_mib": [[round(t, 1), round(m, 1)] for t, m in samples],
        "rss_slope_mib_per_min": stats.slope(after), "cpu_s": procs.cpu_seconds(pid) - cpu,
        "passed": not lag and outcomes >= count, "outcomes": outcomes, "lag": lag,
    }

