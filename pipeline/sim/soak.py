"""``python -m pipeline soak``: the reliability oracle over a long run with random worker kills.

Starts its own embedded broker and workers (private ports and data dirs), streams oracle
traffic for ``--duration`` seconds, kills a random worker with SIGKILL at random intervals and
restarts it, then waits for the group to drain and prints the verdict. Exit code 1 when any event
is missing or classified wrongly. Every ``REPORT_EVERY_S`` it prints the tracking group's lag per
partition and the broker's CPU seconds, so a partition that falls behind shows while it happens.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from config.settings import Settings
from pipeline.kafka import offsets
from pipeline.kafka.admin import ensure_topics_sync
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.sim.bench.procs import cpu_seconds
from pipeline.sim.oracle_stream import Stream
from pipeline.sim.workers import Worker, worker_env

REPORT_EVERY_S = 60.0


def run(duration_s: float, rate: float, workers: int, kill_every_s: float, seed: int, keep: bool) -> int:
    home = Path(tempfile.mkdtemp(prefix="adtrack-soak-"))
    rng = random.Random(seed)
    # Stopped with SIGTERM, the soak still stops its workers and its broker on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"soak: {duration_s:g} s at {rate:g} events/s, {workers} workers, a kill every ~{kill_every_s:g} s; "
          f"logs in {home}", flush=True)
    with EmbeddedBroker(log_path=home / "broker.log") as broker:
        settings = dataclasses.replace(Settings(), kafka_bootstrap_servers=broker.bootstrap, app_id="adtrack-soak")
        ensure_topics_sync(settings)
        env = worker_env(settings.kafka_bootstrap_servers, settings.app_id)
        pool = [Worker(env, home / f"worker-{n}", home / f"worker-{n}.log").start() for n in range(workers)]
        try:
            for worker in pool:
                worker.wait_ready(120)
            stream = Stream(settings, count=int(duration_s * rate), rate=rate, seed=seed)
            stream.load_core_data()
            stream.start()
            kills = 0
            started = time.monotonic()
            next_kill = started + rng.expovariate(1 / kill_every_s)
            next_report = started + REPORT_EVERY_S
            while stream.produced < stream.count and time.monotonic() - started < duration_s * 2 + 300:
                if time.monotonic() >= next_kill:
                    n = rng.randrange(len(pool))
                    pool[n].kill()
                    pool[n] = Worker(env, pool[n].datadir, pool[n].log_path).start()
                    pool[n].wait_ready(120)
                    kills += 1
                    print(f"  {time.monotonic() - started:7.1f} s  killed and restarted worker {n} "
                          f"({stream.produced} events produced)", flush=True)
                    next_kill = time.monotonic() + rng.expovariate(1 / kill_every_s)
                if time.monotonic() >= next_report:
                    next_report += REPORT_EVERY_S
                    print(f"  {time.monotonic() - started:7.1f} s  {_progress(settings, broker)}", flush=True)
                time.sleep(0.2)
            stream.join(timeout=600)
            report = stream.verdict(drain_timeout=300)
        finally:
            for worker in pool:
                worker.stop()
    print(f"\n{kills} kills; verdict:\n{report.table()}", flush=True)
    for problem in report.problems[:20]:
        print("  " + problem)
    if not keep:
        shutil.rmtree(home, ignore_errors=True)
    total = report.total
    return 0 if total.missing == 0 and total.wrong == 0 and not report.problems else 1


def _progress(settings: Settings, broker: EmbeddedBroker) -> str:
    """The tracking group's lag per partition and the broker's CPU so far, in one line."""
    try:
        lag = asyncio.run(offsets.lag(settings, settings.tracking_group, settings.topic_raw))
    except Exception as exc:  # the report is for reading along: a broker hiccup is no reason to stop
        return f"lag unknown ({type(exc).__name__}: {exc})"
    cpu = cpu_seconds(broker.process.pid) if broker.process is not None else float("nan")
    return f"lag {lag or 'none'}; broker CPU {cpu:.0f} s"
