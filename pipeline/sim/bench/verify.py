"""The oracle's verdict on a bench run, from outputs read once and kept small.

``pipeline.sim.oracle.classify`` judges every event; here the outputs are read in large fetches and cut
down to what it looks at (the oracle header, a rejection's reason, an accepted event's cost), so a
500 000-event run fits in memory. The same pass notes each output's Kafka timestamp for the timings.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from config.settings import Settings
from pipeline.sim import oracle
from pipeline.sim.bench import kafka
from pipeline.sim.snapshot import Snapshot
from pipeline.sim.traffic import Generated

Slim = tuple[dict[str, bytes], bytes | None]


@dataclasses.dataclass
class Outputs:
    records: dict[str, list[Slim]]
    first_ms: int = 1 << 62  # the earliest and latest outputs of the run (Kafka record timestamps)
    last_ms: int = 0
    accepted_ms: dict[str, int] = dataclasses.field(default_factory=dict)  # event_id -> first real-time record


def slim(sent: oracle.Sent) -> oracle.Sent:
    """What the verdict needs of a sent event: its number and its expected bucket."""
    return oracle.Sent(sent.run, sent.seq, Generated(None, b"", [], sent.item.expected))


async def read_outputs(settings: Settings, run: str) -> Outputs:
    kinds = {settings.topic_realtime: "realtime", settings.topic_batch: "batch",
             settings.topic_rejected: "rejected", settings.topic_dlq: "dlq"}
    found = Outputs({kind: [] for kind in kinds.values()})
    prefix = f"{run}:".encode()
    async for record in kafka.read(settings, kinds):
        headers = dict(record.headers or ())
        tag = headers.get(oracle.HEADER, b"")
        if not tag.startswith(prefix):
            continue
        kind = kinds[record.topic]
        found.first_ms, found.last_ms = min(found.first_ms, record.timestamp), max(found.last_ms, record.timestamp)
        found.records[kind].append(({oracle.HEADER: tag, "dlq.reason": headers.get("dlq.reason", b"?")},
                                    _slim_value(kind, record.value)))
        if kind == "realtime":
            event_id = orjson.loads(record.value)["event_id"]
            found.accepted_ms.setdefault(event_id, record.timestamp)
    return found


def _slim_value(kind: str, value: bytes | None) -> bytes | None:
    if kind == "realtime":
        event: dict[str, Any] = orjson.loads(value or b"{}")
        return orjson.dumps({k: event.get(k) for k in ("campaign_id", "type", "cost")})
    if kind == "rejected":
        return orjson.dumps({"reason": orjson.loads(value or b"{}").get("reason")})
    return None


def verdict(run: str, sent: dict[int, oracle.Sent], outputs: Outputs, snapshot: Snapshot) -> dict[str, Any]:
    """Every event's outcome against its expected bucket, as figures; ``passed`` when none is missing or wrong."""
    report = oracle.classify(run, sent, outputs.records, snapshot)
    total = report.total
    return {
        "passed": total.missing == 0 and total.wrong == 0 and not report.problems and total.events == len(sent),
        "events": total.events, "accepted": total.accepted, "rejected": total.rejected, "dlq": total.dlq,
        "missing": total.missing, "wrong": total.wrong, "duplicates": total.duplicates,
        "problems": report.problems[:20], "table": report.table(),
    }


@dataclasses.dataclass
class Account:
    """Which of a long run's ``events`` got an outcome: one byte per event, so millions fit in a few MiB."""

    events: int
    seen: bytearray = dataclasses.field(init=False)
    repeated: int = 0  # outcome records beyond an event's first

    def __post_init__(self) -> None:
        self.seen = bytearray(self.events)

    def mark(self, seq: int) -> None:
        if seq >= self.events:
            return
        if self.seen[seq]:
            self.repeated += 1
        else:
            self.seen[seq] = 1

    @property
    def missing(self) -> list[int]:
        return [seq for seq, got in enumerate(self.seen) if not got]

    def figures(self, shown: int = 20) -> dict[str, Any]:
        missing = self.missing
        return {"events": self.events, "answered": self.events - len(missing), "missing": len(missing),
                "missing_seqs": missing[:shown], "repeated_outcomes": self.repeated}


async def account(settings: Settings, run: str, events: int) -> Account:
    """Mark every event of ``run`` that has a real-time, rejected or dead-letter record."""
    found = Account(events)
    prefix = f"{run}:".encode()
    async for record in kafka.read(settings, kafka.outcome_topics(settings)):
        tag = dict(record.headers or ()).get(oracle.HEADER, b"")
        if tag.startswith(prefix):
            found.mark(int(tag[len(prefix):]))
    return found
