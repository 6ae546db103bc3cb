"""Memory over time: a worker under steady traffic with a short dedupe window, its RSS every 5 s.

With ``ADTRACK_DEDUPE_WINDOW_S=60`` and ``ADTRACK_MAX_CLOCK_SKEW_S=10`` an accepted event_id is removed
70 s after its event, so the entries a worker holds should stop growing after that, and so should its
memory and its state store on disk: the slopes of RSS and of the store's size (MiB/min, least squares)
over the samples after the warm-up, up to the traffic's end, tell whether they do (the samples taken
while the group drains its last records and commits them are kept, but are not of steady traffic).
The slope over the second half of the traffic is reported too, and with each RSS sample what the
worker's /metrics says RocksDB's block cache and memtables hold: growth that stops later than the
warm-up is told from growth that goes on, and bounded caches from the rest. The events are not judged
one by one (a long soak would not fit in memory), but each is accounted for: the worker must give every
event an outcome and commit all of ``tracking.raw``, and the events without one are named (their
number, expected outcome and partition).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from typing import Any

from pipeline.sim.bench import kafka, procs, stats, verify
from pipeline.sim.bench.mix import Shares, mix
from pipeline.sim.bench.stage import WARM_UP_EVENTS, Stage, gauge, probe, wait_ready, worker_pid

DEDUPE_WINDOW_S = 60
CLOCK_SKEW_S = 10
SAMPLE_EVERY_S = 5.0
WARM_UP_S = 120.0  # entries start to expire after the window and the skew, 70 s


def warm_up(seconds: float) -> float:
    """The first two minutes, or the first third of a soak shorter than six minutes."""
    return min(WARM_UP_S, seconds / 3)


def steady(samples: list[tuple[float, float]], since: float, until: float) -> list[tuple[float, float]]:
    """The ``(s, MiB)`` samples taken from ``since`` to ``until`` (the traffic's end), as ``(min, MiB)``."""
    return [(t / 60, mib) for t, mib in samples if since <= t <= until]


def store_mib(worker: Any) -> float:
    """Size of the worker's tracking-state stores on disk."""
    folder = worker.datadir / "v1" / "tables" / "tracking-state"
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / (1 << 20) if folder.exists() else 0.0


def soak(here: Stage, rate: float, seconds: float, shares: Shares, seed: int) -> dict[str, Any]:
    started = time.monotonic()
    worker = here.worker(ADTRACK_DEDUPE_WINDOW_S=str(DEDUPE_WINDOW_S), ADTRACK_MAX_CLOCK_SKEW_S=str(CLOCK_SKEW_S))
    wait_ready(worker, started)
    probe(here, WARM_UP_EVENTS)
    pid, cpu = worker_pid(worker), procs.cpu_seconds(worker_pid(worker))
    samples: list[tuple[float, float]] = []
    disk: list[tuple[float, float]] = []
    rocksdb: list[tuple[float, float, float]] = []  # (s, block cache MiB, memtables MiB): bounded parts of RSS
    unanswered = 0  # samples without the worker's state memory: /metrics did not answer in time
    stop = threading.Event()
    began = time.monotonic()

    def sample() -> None:
        nonlocal unanswered
        while True:
            samples.append((time.monotonic() - began, procs.rss_mib(pid)))
            disk.append((samples[-1][0], store_mib(worker)))
            try:
                memory = gauge(worker, "adtrack_state_memory_bytes", "part")
            except OSError:  # /metrics slow to answer (it reads the lag from a busy broker): RSS is sampled anyway
                unanswered += 1
            else:
                rocksdb.append((samples[-1][0], memory.get("block_cache", 0) / (1 << 20),
                                memory.get("memtables", 0) / (1 << 20)))
            if stop.wait(SAMPLE_EVERY_S):
                return

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    try:
        # Stale and future events by these limits.
        settings = dataclasses.replace(here.settings, dedupe_window_s=DEDUPE_WINDOW_S, max_clock_skew_s=CLOCK_SKEW_S)
        run = uuid.uuid4().hex[:12]
        traffic = (kafka.out(r) for r in mix(run, here.updates, seed, shares, settings))
        count = asyncio.run(kafka.paced(here.settings, here.settings.topic_raw, traffic, rate, seconds))
        traffic_s = time.monotonic() - began  # the samples after it are of the drain, not of steady traffic
        lag = asyncio.run(kafka.wait_drained(here.settings, kafka.tracking_group(here.settings), 120))
    finally:
        stop.set()
        sampler.join(10)
    answered = asyncio.run(verify.account(here.settings, run, count)).figures()
    if answered["missing"]:
        answered["missing_events"] = describe(here, run, seed, shares, settings, answered["missing_seqs"])
    after = steady(samples, warm_up(seconds), traffic_s)
    disk_after = steady(disk, warm_up(seconds), traffic_s)
    return {
        "seconds": seconds, "rate": rate, "events": count, "dedupe_window_s": DEDUPE_WINDOW_S,
        "warm_up_s": warm_up(seconds), "traffic_s": round(traffic_s, 1),
        "rss_mib": [[round(t, 1), round(m, 1)] for t, m in samples],
        "rss_slope_mib_per_min": stats.slope(after),
        "rss_slope_second_half_mib_per_min": stats.slope(steady(samples, traffic_s / 2, traffic_s)),
        "cpu_s": procs.cpu_seconds(pid) - cpu,
        "store_mib": [[round(t, 1), round(m, 2)] for t, m in disk], "store_slope_mib_per_min": stats.slope(disk_after),
        "state_memory_mib": [[round(t, 1), round(cache, 1), round(memtables, 1)] for t, cache, memtables in rocksdb],
        "state_memory_unanswered": unanswered,
        "passed": not lag and not answered["missing"], "outcomes": answered, "lag": lag,
    }



def describe(here: Stage, run: str, seed: int, shares: Shares, settings: Any, seqs: list[int]) -> list[str]:
    """The events ``seqs`` again (the mix repeats itself for a seed): what each was and where it went."""
    wanted, found = set(seqs), []
    for record in mix(run, here.updates, seed, shares, settings):
        seq = record.sent.seq
        if seq in wanted:
            found.append(f"#{seq} expected {record.sent.item.expected}, key {record.key!r}, "
                         f"partition {record.partition}")
        if seq >= max(wanted):
            break
    return found
