"""``make run``: the whole pipeline on one machine, until Ctrl-C.

Starts the embedded broker (unless ``KAFKA_BOOTSTRAP_SERVERS`` already answers), loads the
sample core data, starts a worker, the archive (into ``data/archive``) and a steady stream of test
events, and prints live counts.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from kafka import TopicPartition

from config.settings import Settings
from pipeline.cli.loader import publish_updates, read_updates
from pipeline.domain.errors import WorkerError
from pipeline.kafka import clients
from pipeline.kafka.admin import ensure_topics_sync
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.sim import processes
from pipeline.sim.generator import SAMPLE_CORE_DATA as SAMPLE
from pipeline.sim.workers import ROOT, Worker, worker_env


def _answers(bootstrap: str) -> bool:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


class Counter:
    """Counts records on the output topics as they arrive."""

    def __init__(self, settings: Settings) -> None:
        self.topics = [settings.topic_raw, settings.topic_realtime, settings.topic_rejected, settings.topic_dlq]
        self.counts = dict.fromkeys(self.topics, 0)
        self.consumer = clients.blocking_consumer(settings, enable_auto_commit=False, auto_offset_reset="earliest")
        tps = [TopicPartition(t, p) for t in self.topics for p in (self.consumer.partitions_for_topic(t) or ())]
        self.consumer.assign(tps)

    def poll(self) -> str:
        for tp, records in self.consumer.poll(timeout_ms=500, max_records=100_000).items():
            self.counts[tp.topic] += len(records)
        return " | ".join(f"{t} {n}" for t, n in self.counts.items())


def run(settings: Settings, rate: float) -> int:
    root = ROOT
    logs = root / "data" / "demo"
    shutil.rmtree(logs, ignore_errors=True)  # the embedded broker forgets everything: so must the tables
    logs.mkdir(parents=True)
    archive = root / "data" / "archive"
    with ExitStack() as stack:
        if not _answers(settings.kafka_bootstrap_servers):
            # A new broker starts its offsets at 0 again: files of an earlier run would hide the new records.
            shutil.rmtree(archive, ignore_errors=True)
            port = int(settings.bootstrap_servers[0].rpartition(":")[2])
            broker = stack.enter_context(EmbeddedBroker(port=port, log_path=logs / "broker.log"))
            print(f"embedded broker on {broker.bootstrap} (log: {logs / 'broker.log'})")
        else:
            print(f"using the Kafka at {settings.kafka_bootstrap_servers}")
        ensure_topics_sync(settings)
        count = publish_updates(settings, read_updates(SAMPLE))
        print(f"loaded {count} core-data updates from {SAMPLE.relative_to(root)}")

        env = worker_env(settings.kafka_bootstrap_servers, settings.app_id, ADTRACK_ARCHIVE_DIR=str(archive))
        worker_log = logs / "worker.log"
        # The configured ports, not free ones: the demo prints them for the user to open.
        worker = Worker(env, logs / "worker", worker_log, web_port=settings.web_port,
                        ingest_port=settings.ingest_port, cwd=root)
        stack.callback(worker.stop, 15.0)
        print(f"starting a worker (log: {worker_log}) ...")
        try:
            worker.start().wait_ready(timeout=120)
        except (WorkerError, TimeoutError) as error:
            print(f"the worker did not start: {error}", file=sys.stderr)
            return 1
        archiver = _spawn([sys.executable, "-m", "pipeline", "archive", "--out", str(archive), "--max-seconds", "10"],
                          env, logs / "archive.log")
        stack.callback(processes.stop, archiver, 15.0)
        print(f"archiving tracking.batch into {archive / 'tracking'}/dt=YYYY-MM-DD/hour=HH/ "
              f"(log: {logs / 'archive.log'}); page: http://{settings.web_bind}:{settings.web_port}/archive")
        producer = _spawn([sys.executable, "-m", "pipeline", "produce-events", "--count", "0", "--rate", str(rate),
                           "--invalid-ratio", "0.1", "--quiet"], env, logs / "producer.log")
        stack.callback(processes.stop, producer, 15.0)
        print(f"producing {rate:g} events/s (log: {logs / 'producer.log'})")
        print(f"pages (internal web server): http://{settings.web_bind}:{settings.web_port}/")
        ingest = f"http://{settings.ingest_bind}:{settings.ingest_port}"
        print(f"ingest (public listener): {ingest}/t.gif?e=ID&c=CAMPAIGN&p=PUBLISHER&s=SLOT, POST {ingest}/events")
        print("Ctrl-C stops everything.\n")
        counter = Counter(settings)
        stack.callback(counter.consumer.close)
        try:
            while worker.running() and archiver.poll() is None:
                print(counter.poll(), flush=True)
                time.sleep(2)
            print(f"the worker or the archive exited; see {worker_log} and {logs / 'archive.log'}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nstopping ...")
            return 0
