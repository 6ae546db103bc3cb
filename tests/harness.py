"""Real parts for integration tests: worker subprocesses and a Kafka client on the embedded broker."""

from __future__ import annotations

import http.client
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from config.settings import Settings
from pipeline.kafka.admin import ensure_topics_sync
from pipeline.sim import workers
from pipeline.sim.workers import Worker, wait_until

__all__ = [
    "ROOT", "ConsumedRecord", "Kafka", "Tail", "Worker", "tracking_assignments", "unique", "wait_until", "worker_env",
]

ROOT = Path(__file__).resolve().parent.parent


def worker_env(bootstrap: str, app_id: str, **extra: str) -> dict[str, str]:
    """A test worker's environment: none of the ADTRACK_* settings of the shell running the tests."""
    return workers.worker_env(bootstrap, app_id, inherit_settings=False,
                              **{"ADTRACK_BARRIER_TIMEOUT_S": "20", "PYTHONPATH": str(ROOT), **extra})


@dataclass
class ConsumedRecord:
    """A record as a test read it back from a topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]

    def json(self) -> Any:
        return orjson.loads(self.value) if self.value is not None else None


class Kafka:
    """A plain kafka-python client for tests: produce, and read topics from the beginning."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bootstrap = settings.bootstrap_servers
        # Up to what the broker accepts, so tests can send records larger than adtrack can write back whole.
        self._producer = KafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=0, max_request_size=8 * 1024 * 1024
        )
        self._tails: dict[str, Tail] = {}

    def close(self) -> None:
        self._producer.close()
        for tail in self._tails.values():
            tail.close()

    def ensure_topics(self) -> None:
        ensure_topics_sync(self.settings)

    def send(
        self, topic: str, value: bytes | dict[str, Any] | None, key: bytes | str | None = None,
        headers: Iterable[tuple[str, bytes]] = (), partition: int | None = None,
    ) -> Any:
        if isinstance(value, dict):
            value = orjson.dumps(value)
        if isinstance(key, str):
            key = key.encode()
        meta = self._producer.send(topic, value=value, key=key, headers=list(headers), partition=partition)
        return meta.get(timeout=10)

    def read(self, topic: str) -> list[ConsumedRecord]:
        """Everything on ``topic`` so far, in partition/offset order."""
        tail = self._tails.get(topic)
        if tail is None:
            tail = self._tails[topic] = Tail(self.bootstrap, topic)
        return tail.read()

    def wait_for(
        self, topic: str, match: Callable[[ConsumedRecord], bool], count: int = 1, timeout: float = 30.0
    ) -> list[ConsumedRecord]:
        """Wait until ``topic`` holds at least ``count`` records that ``match``; return all that match."""
        found: list[ConsumedRecord] = []

        def enough() -> bool:
            found[:] = [r for r in self.read(topic) if match(r)]
            return len(found) >= count

        wait_until(enough, timeout, f"{count} matching record(s) on {topic}", interval=0.1)
        return found


class Tail:
    """Follows one topic from the beginning, keeping every record read so far."""

    def __init__(self, bootstrap: list[str], topic: str) -> None:
        self.topic = topic
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        self.records: list[ConsumedRecord] = []
        self.partitions: set[int] = set()

    def read(self) -> list[ConsumedRecord]:
        partitions = self.consumer.partitions_for_topic(self.topic) or set()
        if partitions != self.partitions:
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            self.consumer.assign(tps)
            self.consumer.seek_to_beginning(*tps)
            self.records.clear()
            self.partitions = set(partitions)
        if not self.partitions:
            return []
        tps = [TopicPartition(self.topic, p) for p in sorted(self.partitions)]
        end = self.consumer.end_offsets(tps)
        deadline = time.monotonic() + 15
        polled = True
        # The embedded broker reports a partition's end as its last batch's base offset + 1, and a poll
        # hands out at most max_poll_records of what it fetched: the rest of a fetched batch may lie past
        # that "end" in the consumer's buffer, so keep polling until a poll comes back empty.
        while (polled or any(self.consumer.position(tp) < end[tp] for tp in tps)) and time.monotonic() < deadline:
            fetched = self.consumer.poll(timeout_ms=0 if polled else 100)
            polled = bool(fetched)
            for _, batch in fetched.items():
                self.records.extend(
                    ConsumedRecord(m.topic, m.partition, m.offset, m.key, m.value, dict(m.headers or [])) for m in batch
                )
        self.records.sort(key=lambda r: (r.partition, r.offset))
        return list(self.records)

    def close(self) -> None:
        self.consumer.close()


def tracking_assignments(worker: Worker) -> int:
    """How many assignments of tracking.raw partitions the worker's tracking consumer has taken (its log says)."""
    return worker.log().count(b"tracking assigned ")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


def call(
    port: int, method: str, path: str, body: bytes | Iterable[bytes] | None = None, **headers: str
) -> Answer:
    """One HTTP request on loopback; header names are given with ``_`` for ``-``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()})
        response = conn.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    """A raw TCP connection to a loopback port, from ``source`` (any 127.x.y.z address: another client)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Read until the server closes ``sock`` (True) or ``timeout`` s pass with the connection still open (False)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
    return False


def answer_on(sock: socket.socket, timeout: float) -> bytes:
    """Whatever the server has sent on ``sock`` within ``timeout`` s, up to its closing the connection."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        pass
    return received
