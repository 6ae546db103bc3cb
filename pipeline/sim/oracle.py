"""The oracle: traffic whose every outcome is known in advance, and a verifier that holds the pipeline to it.

Each produced message carries an ``adtrack.oracle`` header with its sequence number; the pipeline
keeps headers on every output (real-time, batch, rejected, DLQ), so every event can be found again.
After the pipeline drained, each sequence number is classified: accepted, rejected(reason),
dlq(reason) or **missing**, with the copies beyond the first counted as duplicates.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import orjson
from kafka import TopicPartition

from config.settings import Settings
from pipeline.cli.tables import text_table
from pipeline.domain.errors import OracleError
from pipeline.domain.pricing import cost_micros, from_micros
from pipeline.kafka import clients, offsets
from pipeline.kafka.offsets import topic_end_offsets
from pipeline.sim.generator import generate
from pipeline.sim.snapshot import Snapshot
from pipeline.sim.traffic import Generated

HEADER = "adtrack.oracle"
ACCEPTED = "accepted"


@dataclasses.dataclass(frozen=True)
class Sent:
    run: str
    seq: int
    item: Generated

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [*self.item.headers, (HEADER, f"{self.run}:{self.seq}".encode())]


def traffic(
    run: str, updates: list[dict[str, Any]], seed: int, invalid_ratio: float, settings: Settings
) -> Iterator[Sent]:
    """Numbered test traffic over ``updates`` (see ``pipeline.sim.generator``); ``run`` tells runs apart."""
    items = generate(updates, random.Random(seed), invalid_ratio, lambda: int(time.time() * 1000), settings)
    for seq, item in enumerate(items):
        yield Sent(run, seq, item)


@dataclasses.dataclass
class Row:
    bucket: str
    events: int = 0
    accepted: int = 0
    rejected: int = 0
    dlq: int = 0
    missing: int = 0
    wrong: int = 0
    duplicates: int = 0


@dataclasses.dataclass
class Report:
    rows: dict[str, Row]
    problems: list[str]

    @property
    def total(self) -> Row:
        total = Row("all")
        for row in self.rows.values():
            for f in ("events", "accepted", "rejected", "dlq", "missing", "wrong", "duplicates"):
                setattr(total, f, getattr(total, f) + getattr(row, f))
        return total

    def table(self) -> str:
        header = ("expected", "events", "accepted", "rejected", "dlq", "missing", "wrong", "duplicates")
        lines = [
            (r.bucket, r.events, r.accepted, r.rejected, r.dlq, r.missing, r.wrong, r.duplicates)
            for r in [*sorted(self.rows.values(), key=lambda r: r.bucket), self.total]
        ]
        return text_table(header, lines)


def classify(run: str, sent: dict[int, Sent], outputs: dict[str, list[tuple[dict[str, bytes], bytes | None]]],
             snapshot: Snapshot | None = None) -> Report:
    """Classify every sent event by what the outputs hold for it.

    ``outputs`` maps "realtime", "batch", "rejected" and "dlq" to (headers, value) records.
    With ``snapshot`` (the core data), accepted events are also checked for their exact cost.
    """
    seen: dict[int, Counter[str]] = defaultdict(Counter)
    problems: list[str] = []
    for kind, records in outputs.items():
        for headers, value in records:
            tag = headers.get(HEADER, b"").decode().rpartition(":")
            if tag[0] != run:
                continue
            seq = int(tag[2])
            if kind in ("realtime", "batch"):
                seen[seq][kind] += 1
                if kind == "realtime" and snapshot is not None and seq in sent:
                    problems.extend(_check_cost(seq, orjson.loads(value), snapshot))
            elif kind == "rejected":
                seen[seq][f"rejected:{orjson.loads(value)['reason']}"] += 1
            else:
                seen[seq][f"dlq:{headers.get('dlq.reason', b'?').decode()}"] += 1
    rows: dict[str, Row] = {}
    for seq, s in sent.items():
        expected = s.item.expected
        row = rows.setdefault(expected, Row(expected))
        row.events += 1
        got = seen.get(seq, Counter())
        accepted = min(got["realtime"], got["batch"])
        rejected = sum(n for k, n in got.items() if k.startswith("rejected:"))
        dlq = sum(n for k, n in got.items() if k.startswith("dlq:"))
        outcomes = accepted + rejected + dlq
        row.accepted += accepted > 0
        row.rejected += accepted == 0 and rejected > 0
        row.dlq += accepted == 0 and rejected == 0 and dlq > 0
        if outcomes == 0:
            row.missing += 1
            problems.append(f"#{seq} ({expected}) is missing")
            continue
        row.duplicates += outcomes - 1
        if not _as_expected(expected, got):
            row.wrong += 1
            problems.append(f"#{seq} expected {expected}, got {dict(got)}")
    return Report(rows, problems)


def _as_expected(expected: str, got: Counter[str]) -> bool:
    if expected == ACCEPTED:
        # A replayed re-routed copy is rejected as a duplicate of the accepted original: still accepted.
        return got["realtime"] > 0 and got["batch"] > 0
    if expected.startswith("dlq:"):
        return got[expected] > 0 and got["realtime"] == 0
    return got[f"rejected:{expected}"] > 0 and got["realtime"] == 0


def _check_cost(seq: int, record: dict[str, Any], snapshot: Snapshot) -> list[str]:
    campaign = snapshot.campaigns.get(record["campaign_id"])
    if campaign is None:
        return [f"#{seq} accepted for unknown campaign {record['campaign_id']}"]
    cost = from_micros(cost_micros(record["type"], campaign["pricing_model"], campaign["price"]))
    if record["cost"] != cost:
        return [f"#{seq} cost {record['cost']} != {cost}"]
    return []


def read_outputs(settings: Settings) -> dict[str, list[tuple[dict[str, bytes], bytes | None]]]:
    topics = {"realtime": settings.topic_realtime, "batch": settings.topic_batch,
              "rejected": settings.topic_rejected, "dlq": settings.topic_dlq}
    return {kind: [(h, v) for h, v in read_topic(settings, topic)] for kind, topic in topics.items()}


def read_topic(settings: Settings, topic: str, timeout_s: float = 60.0) -> Iterator[tuple[dict[str, bytes], bytes | None]]:
    """Headers and value of every record on ``topic``, up to its confirmed end."""
    ends = {(tp.topic, tp.partition): end for tp, end in asyncio.run(topic_end_offsets(settings, topic)).items()}
    tps = [TopicPartition(t, p) for (t, p), end in sorted(ends.items()) if end > 0]
    if not tps:
        return
    consumer = clients.blocking_consumer(settings, enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp.topic, tp.partition] for tp in tps):
            if time.monotonic() > deadline:
                raise OracleError(f"could not read {topic} to its end within {timeout_s:.0f} s")
            for records in consumer.poll(timeout_ms=200, max_records=50_000).values():
                for m in records:
                    yield dict(m.headers or []), m.value
    finally:
        consumer.close()


def wait_drained(settings: Settings, timeout_s: float) -> dict[int, int]:
    """Wait until the workers committed every record on ``tracking.raw``; returns the lag left (empty when none).

    Outputs are flushed before input offsets are committed, so a drained group has written everything.
    """
    return asyncio.run(offsets.wait_drained(settings, settings.tracking_group, settings.topic_raw, timeout_s))
