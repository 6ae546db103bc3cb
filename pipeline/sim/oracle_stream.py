"""A steady stream of oracle traffic in a background thread, and the verdict at the end (tests and soak)."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path


from config.settings import Settings
from pipeline.cli.loader import publish_updates, read_updates
from pipeline.domain.errors import OracleError
from pipeline.kafka import clients
from pipeline.sim import oracle
from pipeline.sim.generator import SAMPLE_CORE_DATA
from pipeline.sim.snapshot import Snapshot


class Stream:
    """Produces ``count`` oracle events at ``rate`` per second to ``tracking.raw``, remembering each one."""

    def __init__(self, settings: Settings, count: int, rate: float, seed: int = 1, invalid_ratio: float = 0.2,
                 core_data: Path = SAMPLE_CORE_DATA) -> None:
        self.settings = settings
        self.count = count
        self.rate = rate
        self.updates = read_updates(core_data)
        self.snapshot = Snapshot.from_updates(self.updates)
        self.sent: dict[int, oracle.Sent] = {}
        self.run = uuid.uuid4().hex[:12]
        self._traffic = oracle.traffic(self.run, self.updates, seed, invalid_ratio, settings)
        self._thread = threading.Thread(target=self._run, name="oracle-stream", daemon=True)
        self._stop = threading.Event()
        self.errors: list[BaseException] = []

    def load_core_data(self) -> None:
        publish_updates(self.settings, self.updates)

    def start(self) -> Stream:
        self._thread.start()
        return self

    def _run(self) -> None:
        producer = clients.blocking_producer(self.settings, acks="all", linger_ms=5,
                                 retries=2147483647, max_block_ms=120_000, request_timeout_ms=60_000)
        started = time.monotonic()
        try:
            for n in range(self.count):
                if self._stop.is_set():
                    break
                sent = next(self._traffic)
                # every event is remembered only once the broker has it: the oracle judges what was written
                future = producer.send(self.settings.topic_raw, key=sent.item.key, value=sent.item.value,
                                       headers=sent.headers)
                future.add_callback(lambda _, s=sent: self.sent.__setitem__(s.seq, s))
                future.add_errback(self.errors.append)
                delay = started + (n + 1) / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            producer.flush()
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.errors.append(exc)
        finally:
            producer.close()

    @property
    def produced(self) -> int:
        return len(self.sent)

    def join(self, timeout: float = 300.0) -> None:
        """Wait for the stream to end; raise ``OracleError`` if it did not, or lost a write."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise OracleError("the stream did not finish")
        if self.errors:
            raise OracleError(f"producing failed: {self.errors[:3]}")
        if len(self.sent) != self.count and not self._stop.is_set():
            raise OracleError(f"{len(self.sent)} of {self.count} events were acknowledged")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def verdict(self, drain_timeout: float = 120.0) -> oracle.Report:
        lag = oracle.wait_drained(self.settings, drain_timeout)
        if lag:
            raise OracleError(f"the workers did not drain tracking.raw: lag {lag}")
        return oracle.classify(self.run, self.sent, oracle.read_outputs(self.settings), self.snapshot)
