"""A stage for one bench phase: its own embedded broker, adtrack's topics, the sample core data, workers.

Every phase gets a fresh broker, so no phase sees another's records, offsets or state. Whatever
happens, leaving the stage stops every worker it started and then the broker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from config.settings import Settings
from pipeline.cli.loader import publish_updates, read_updates
from pipeline.kafka.admin import ensure_topics_sync
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.sim.bench import kafka, procs
from pipeline.sim.bench.mix import Shares, mix
from pipeline.sim.generator import SAMPLE_CORE_DATA
from pipeline.sim.snapshot import Snapshot
from pipeline.sim.workers import Worker, worker_env

WARM_UP_EVENTS = 40  # valid events a fresh worker answers before it is measured


@dataclasses.dataclass
class Stage:
    name: str
    home: Path
    broker: EmbeddedBroker
    settings: Settings
    updates: list[dict[str, Any]]
    workers: list[Worker] = dataclasses.field(default_factory=list)

    @property
    def snapshot(self) -> Snapshot:
        return Snapshot.from_updates(self.updates)

    @property
    def broker_pid(self) -> int:
        assert self.broker.process is not None
        return self.broker.process.pid

    def broker_cpu(self) -> float:
        return procs.cpu_seconds(self.broker_pid)

    def worker(self, **env: str) -> Worker:
        """A fresh worker (empty data dir) started now; ``env`` adds settings (``ADTRACK_...``)."""
        n = len(self.workers)
        environment = worker_env(self.settings.kafka_bootstrap_servers, self.settings.app_id, **env)
        worker = Worker(environment, self.home / f"{self.name}-worker-{n}",
                        self.home / f"{self.name}-worker-{n}.log")
        self.workers.append(worker)
        worker.start()
        return worker


def worker_pid(worker: Worker) -> int:
    assert worker.process is not None
    return worker.process.pid


def wait_ready(worker: Worker, started: float, timeout_s: float = 120.0) -> float:
    """Seconds from ``started`` (monotonic) until the worker logged that it is ready."""
    worker.wait_ready(timeout_s)
    return time.monotonic() - started


def _families(worker: Worker) -> list[Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}/metrics", timeout=10) as answer:
        return list(text_string_to_metric_families(answer.read().decode()))


def histogram(worker: Worker, name: str) -> list[tuple[float, float]]:
    """The buckets of one histogram of the worker's ``/metrics``: (upper bound, cumulative count)."""
    return [(float(sample.labels["le"]), sample.value) for family in _families(worker) if family.name == name
            for sample in family.samples if sample.name == f"{name}_bucket"]


def gauge(worker: Worker, name: str, label: str) -> dict[str, float]:
    """One gauge of the worker's ``/metrics``, by the value of ``label``."""
    return {sample.labels[label]: sample.value for family in _families(worker) if family.name == name
            for sample in family.samples}


def probe(here: Stage, count: int, timeout_s: float = 120.0) -> None:
    """Send ``count`` valid events and wait for their outcomes: a worker past "ready" that really serves."""
    before = asyncio.run(kafka.outcomes(here.settings))
    events = mix(f"probe-{uuid.uuid4().hex[:8]}", here.updates, 0, Shares(0, 0, 0), here.settings)
    records = (kafka.out(e) for _, e in zip(range(count), events))
    asyncio.run(kafka.write(here.settings, here.settings.topic_raw, records))
    asyncio.run(kafka.wait_outcomes(here.settings, before + count, timeout_s))


@contextmanager
def stage(home: Path, name: str) -> Iterator[Stage]:
    broker = EmbeddedBroker(log_path=home / f"{name}-broker.log")
    broker.start()
    here = Stage(name, home, broker, Settings(), [])
    try:
        here.settings = dataclasses.replace(Settings(), kafka_bootstrap_servers=broker.bootstrap,
                                            app_id=f"adtrack-bench-{uuid.uuid4().hex[:8]}")
        ensure_topics_sync(here.settings)
        here.updates = read_updates(SAMPLE_CORE_DATA)
        publish_updates(here.settings, here.updates)
        yield here
    finally:
        for worker in here.workers:
            worker.stop()
        broker.stop()
