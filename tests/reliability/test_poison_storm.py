"""Scenario 6: a storm of poison on one campaign's partition, interleaved with valid events of that campaign.

Hypothesis draws the storm (``derandomize=True``: the same storm on every run): invalid UTF-8, JSON that is
not an object, nesting deeper than the decoder allows, numbers beyond 64 bits, values over the size limit
(up to 1 MB), tombstones, null keys, and required fields that are missing or mistyped. Every poison must
reach ``tracking.dlq`` with its original key and bytes and headers that point at the raw record; every
valid event must be accepted, in the order it was sent; and the partition must drain.

Two poisons the storm leaves out have their own tests, named after what they once broke: a raw event
of 1,000,000 bytes (its DLQ copy was over the producer's request limit) and a tombstone without a key
(no client can write one back, so its DLQ copy has an empty key).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka import TopicPartition as AioTopicPartition
from aiokafka.partitioner import murmur2
from hypothesis import HealthCheck, Phase, example, given, settings as hypothesis_settings
from hypothesis import strategies as st

from pipeline.cli.loader import publish_updates, read_updates
from pipeline.cli.tables import text_table
from pipeline.domain.events import EVENT_TYPES, MAX_EVENT_ID_CHARS, OPTIONAL_STRINGS, REQUIRED_IDS
from pipeline.sim import oracle
from pipeline.sim.generator import SAMPLE_CORE_DATA
from pipeline.sim.snapshot import Snapshot
from tests import factories
from tests.harness import ConsumedRecord

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEQ = "storm.seq"  # our header on every record of the storm: the pipeline must keep it
STORM = 300
# Values go up to ~1 MB (the limit is ADTRACK_MAX_EVENT_BYTES, 64 KiB); exactly 1 MB has its own test.
MAX_VALUE = 999_000
ONE_MB = 1_000_000
BAD_UTF8 = (
    b"\xff",  # never valid in UTF-8
    b"\xe9",  # Latin-1 where UTF-8 belongs
    b"\xc3\x28",  # a lead byte without its continuation
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xf0\x28\x8c\xbc",  # a broken 4-byte sequence
    b"\xe2\x82",  # cut short
)
MARK = "\u2603MARK\u2603"
INT64 = st.integers(-(2**63), 2**63 - 1)
NOT_STRINGS = st.one_of(
    INT64, st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none(),
    st.lists(st.integers(0, 9), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(0, 9), max_size=2),
)
SCALARS = st.none() | st.booleans() | INT64 | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=8,
)


@dataclasses.dataclass(frozen=True)
class Poison:
    kind: str
    value: bytes | None
    reason: str  # the dlq.reason it must get
    null_key: bool = False


def dumps(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)


def invalid_utf8(event: dict[str, Any], field: str, bad: bytes) -> Poison:
    event = {**event, field: f"{event[field]}{MARK}"}
    return Poison("invalid utf-8", dumps(event).replace(MARK.encode(), bad), "malformed")


JSON_TYPES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string", list: "array"}


def not_an_object(value: Any) -> Poison:
    return Poison(f"not an object ({JSON_TYPES[type(value)]})", orjson.dumps(value), "malformed")


def truncated(event: dict[str, Any], cut: int) -> Poison:
    whole = dumps(event)
    return Poison("not an object (cut short)", whole[: max(1, min(cut, len(whole) - 1))], "malformed")


def nested(event: dict[str, Any], depth: int, shape: str) -> Poison:
    if shape == "object":
        value = b'{"a":' * depth + b"1" + b"}" * depth
    else:
        value = b"[" * depth + b"]" * depth
        if shape == "in event":
            value = dumps({**event, "extra": MARK}).replace(f'"{MARK}"'.encode(), value)
    return Poison(f"deep nesting ({shape})", value, "malformed")


def huge_number(event: dict[str, Any], number: int, field: str | None) -> Poison:
    """A number no 64-bit integer holds: a float where an int or a string belongs, or beyond a double."""
    if field is None:
        return Poison("huge number (top level)", str(number).encode(), "malformed")
    value = dumps({**event, field: MARK}).replace(f'"{MARK}"'.encode(), str(number).encode())
    try:
        float(number)
    except OverflowError:
        return Poison("huge number (beyond a double)", value, "malformed")
    return Poison("huge number (in a field)", value, "schema")


def oversized(event: dict[str, Any], size: int, shape: str) -> Poison:
    if shape == "blob":
        return Poison("oversized (not JSON)", b"x" * size, "oversized")
    value = dumps({**event, "padding": ""})
    value = value.replace(b'"padding":""', b'"padding":"' + b"p" * (size - len(value)) + b'"')
    assert len(value) == size
    return Poison("oversized (event)", value, "oversized")


def tombstone() -> Poison:
    return Poison("tombstone", None, "malformed")


def wrong_type(event: dict[str, Any], field: str, value: Any) -> Poison:
    if value is ...:
        event = {k: v for k, v in event.items() if k != field}
        return Poison("required field missing", dumps(event), "schema")
    return Poison("wrong type for a field", dumps({**event, field: value}), "schema")


def wrong_values(field: str) -> st.SearchStrategy[Any]:
    if field == "event_id":
        return NOT_STRINGS | st.just("") | st.text(min_size=MAX_EVENT_ID_CHARS + 1, max_size=MAX_EVENT_ID_CHARS + 20)
    if field == "type":
        return NOT_STRINGS | st.text(max_size=20).filter(lambda t: t not in EVENT_TYPES)
    if field == "ts":
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=13), st.booleans(),
                         st.none(), st.lists(INT64, max_size=2))
    if field in REQUIRED_IDS:
        return NOT_STRINGS | st.just("")
    return NOT_STRINGS.filter(lambda v: v is not None)  # an optional string may be null, nothing else


def poisons(event: dict[str, Any]) -> st.SearchStrategy[Poison]:
    fields = ("event_id", "type", "ts", *REQUIRED_IDS, *OPTIONAL_STRINGS)
    string_fields = st.sampled_from(("event_id", "url", "user_agent", "campaign_id"))
    kinds = st.one_of(
        st.builds(invalid_utf8, st.just(event), string_fields, st.sampled_from(BAD_UTF8)),
        st.builds(not_an_object, st.one_of(SCALARS, st.lists(JSON, max_size=4), st.just([event]))),
        st.builds(truncated, st.just(event), st.integers(1, 400)),
        st.builds(nested, st.just(event), st.integers(1025, 4000), st.sampled_from(("array", "object", "in event"))),
        st.builds(huge_number, st.just(event),
                  st.integers(2**64, 10**300) | st.integers(2**64, 10**300).map(lambda n: -n)
                  | st.integers(309, 400).map(lambda k: 10**k),
                  st.sampled_from((None, "ts", "event_id", "campaign_id", "type", "user_id"))),
        st.builds(oversized, st.just(event), st.integers(65_537, MAX_VALUE), st.sampled_from(("event", "blob"))),
        st.just(tombstone()),
        st.sampled_from(fields).flatmap(lambda f: st.builds(wrong_type, st.just(event), st.just(f), wrong_values(f))),
        st.sampled_from(("event_id", "type", "ts", *REQUIRED_IDS)).map(lambda f: wrong_type(event, f, ...)),
    )
    # Kafka clients refuse a record with neither key nor value: a tombstone keeps its key.
    return st.builds(dataclasses.replace, kinds, null_key=st.booleans()).map(
        lambda p: dataclasses.replace(p, null_key=p.null_key and p.value is not None))


def storm(event: dict[str, Any]) -> list[tuple[Poison, int]]:
    """About STORM poisons, each followed by 0-2 valid events; the same list on every run."""
    drawn: list[tuple[Poison, int]] = []
    edges = [
        (nested(event, 2000, "array"), 1), (nested(event, 2000, "in event"), 1),
        (oversized(event, MAX_VALUE, "event"), 1), (huge_number(event, 2**64, "ts"), 1),
        (huge_number(event, 10**400, "ts"), 1), (tombstone(), 1),
        (not_an_object(None), 1), (invalid_utf8(event, "url", b"\xe9"), 1),
    ]

    def draw(item: tuple[Poison, int]) -> None:
        drawn.append(item)

    for edge in edges:
        draw = example(item=edge)(draw)
    run = given(item=st.tuples(poisons(event), st.integers(0, 2)))(draw)
    hypothesis_settings(max_examples=STORM, derandomize=True, database=None, deadline=None,
                        phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))(run)()
    return drawn


@dataclasses.dataclass(frozen=True)
class Campaign:
    """A billable campaign of the sample core data, one of its placements, and its home partition."""

    id: str
    publisher: str
    slot: str
    home: int

    def event(self, event_id: str) -> dict[str, Any]:
        return factories.event(self.id, self.publisher, self.slot, event_id=event_id)

    def key(self, poison: Poison) -> bytes | None:
        return None if poison.null_key else self.id.encode()


@pytest.fixture(scope="module")
def campaign(kafka, settings, worker) -> Campaign:
    updates = read_updates(SAMPLE_CORE_DATA)
    snapshot = Snapshot.from_updates(updates)
    cid = snapshot.billable(factories.now_ms())[0]
    pid, sid = snapshot.placements[cid][0]
    publish_updates(settings, updates)
    last = updates[-1]  # one partition, applied in order: its notification comes last
    kafka.wait_for(settings.topic_coredata_changes,
                   lambda r: r.json()["id"] == last["id"] and r.json()["version"] == last["version"])
    return Campaign(cid, pid, sid, (murmur2(cid.encode()) & 0x7FFFFFFF) % settings.partitions)


def send(kafka, campaign: Campaign, seq: int, record: Poison | dict[str, Any]) -> Any:
    """One record of the storm to the campaign's partition; returns its metadata (topic, partition, offset)."""
    headers = [(SEQ, str(seq).encode())]
    if isinstance(record, Poison):
        key, value = campaign.key(record), record.value
    else:
        key, value = campaign.id.encode(), orjson.dumps(record)
    return kafka.send(kafka.settings.topic_raw, value, key=key, headers=headers, partition=campaign.home)


def test_a_poison_storm_is_dead_lettered_whole_and_valid_events_pass_in_order(
    kafka, settings, campaign: Campaign, artifacts: Path
) -> None:
    items = storm(campaign.event("storm-poison"))
    started = factories.now_ms()
    sent: dict[int, tuple[Poison | dict[str, Any], Any]] = {}  # seq -> (poison or valid event, its metadata)
    for poison, valid_after in items:
        for record in [poison, *(campaign.event(f"storm-valid-{len(sent)}-{n}") for n in range(valid_after))]:
            seq = len(sent)
            sent[seq] = (record, send(kafka, campaign, seq, record))
    sending = (factories.now_ms() - started) / 1000

    lag = oracle.wait_drained(settings, 180)
    assert not lag, f"the storm stalled tracking.raw: lag {lag}"
    drained = (factories.now_ms() - started) / 1000

    dlq = by_seq(kafka.read(settings.topic_dlq))
    realtime = by_seq(kafka.read(settings.topic_realtime))
    batch = by_seq(kafka.read(settings.topic_batch))
    rejected = by_seq(kafka.read(settings.topic_rejected))

    problems: list[str] = []
    summary: Counter[tuple[str, str]] = Counter()
    order: list[int] = []  # realtime offsets of the valid events, in send order
    for seq, (record, meta) in sent.items():
        outcomes = {name: len(found.get(seq, [])) for name, found in
                    (("realtime", realtime), ("batch", batch), ("rejected", rejected), ("dlq", dlq))}
        if not isinstance(record, Poison):
            ok = outcomes == {"realtime": 1, "batch": 1, "rejected": 0, "dlq": 0}
            summary[("valid event", "accepted" if ok else "NOT accepted")] += 1
            if not ok:
                problems.append(f"valid #{seq} {record['event_id']}: {outcomes}")
            order.extend(r.offset for r in realtime.get(seq, [])[:1])
            continue
        found = dlq.get(seq, [])
        summary[(record.kind, ",".join(sorted({r.headers["dlq.reason"].decode() for r in found})) or "LOST")] += 1
        if outcomes != {"realtime": 0, "batch": 0, "rejected": 0, "dlq": 1}:
            problems.append(f"poison #{seq} {record.kind}: {outcomes}")
            continue
        wrong = dlq_problems(found[0], record, meta, campaign.key(record), started)
        problems.extend(f"poison #{seq} {record.kind}: {p}" for p in wrong)

    if len({r.partition for records in realtime.values() for r in records}) > 1:
        problems.append("the campaign's events were accepted on more than one realtime partition")
    if order != sorted(set(order)):
        problems.append(f"valid events accepted out of order: realtime offsets {order}")

    table = summary_table(summary, sending, drained)
    (artifacts / "poison_storm.txt").write_text(table + "\n")
    print(f"\n{table}")
    assert len(sent) - len(order) >= STORM and order
    assert not problems, "\n".join(problems[:30])


def test_a_1_mb_raw_event_is_dead_lettered_not_lost(kafka, campaign: Campaign) -> None:
    poison = oversized(campaign.event("one-mb"), ONE_MB, "event")
    dead_lettered_alone(kafka, campaign, poison, lambda seq: send(kafka, campaign, seq, poison), seq=10_000)


def test_a_tombstone_without_a_key_is_dead_lettered_not_lost(kafka, settings, campaign: Campaign) -> None:
    poison = dataclasses.replace(tombstone(), null_key=True)

    def send_poison(seq: int) -> Any:
        return asyncio.run(send_keyless_tombstone(settings, campaign.home, [(SEQ, str(seq).encode())]))

    # no client can write a record with neither key nor value: its DLQ copy has an empty key
    dead_lettered_alone(kafka, campaign, poison, send_poison, seq=20_000, key=b"")


def dead_lettered_alone(kafka, campaign: Campaign, poison: Poison, send_poison: Any, seq: int,
                        key: bytes | None | type(...) = ...) -> None:
    """``poison``, sent alone as ``seq``, is dead-lettered whole, and the valid event after it is accepted."""
    settings = kafka.settings
    started = factories.now_ms()
    meta = send_poison(seq)
    send(kafka, campaign, seq + 1, campaign.event(f"after-{seq}"))
    assert not oracle.wait_drained(settings, 60)
    assert by_seq(kafka.read(settings.topic_realtime)).get(seq + 1), "the event after it was not accepted"
    found = by_seq(kafka.read(settings.topic_dlq)).get(seq, [])
    assert len(found) == 1, f"{len(found)} DLQ records for the {poison.kind} poison (see the worker log)"
    assert not dlq_problems(found[0], poison, meta, campaign.key(poison) if key is ... else key, started)


async def send_keyless_tombstone(settings, partition: int, headers: list[tuple[str, bytes]]) -> Any:
    """Both Python clients refuse a record without key and value up front; the protocol (and the Java
    client) allow it, so it goes straight to aiokafka's accumulator, below that check."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.client._wait_on_metadata(settings.topic_raw)
        tp = AioTopicPartition(settings.topic_raw, partition)
        delivered = await producer._message_accumulator.add_message(tp, None, None, 10, headers=headers)
        return await delivered
    finally:
        await producer.stop()


def by_seq(records: list[ConsumedRecord]) -> dict[int, list[ConsumedRecord]]:
    found: dict[int, list[ConsumedRecord]] = {}
    for r in records:
        if SEQ in r.headers:
            found.setdefault(int(r.headers[SEQ]), []).append(r)
    return found


def dlq_problems(record: ConsumedRecord, poison: Poison, meta: Any, key: bytes | None, started: int) -> list[str]:
    h = record.headers
    problems = []
    if record.value != poison.value:
        problems.append(f"value changed: {len(record.value or b'')} bytes, sent {len(poison.value or b'')}")
    if record.key != key:
        problems.append(f"key changed: {record.key!r}")
    expected = {
        "dlq.reason": poison.reason, "dlq.topic": meta.topic, "dlq.partition": str(meta.partition),
        "dlq.offset": str(meta.offset), "dlq.stage": "decode",
    }
    got = {k: h.get(k, b"").decode() for k in expected}
    if got != expected:
        problems.append(f"headers {got} != {expected}")
    if not h.get("dlq.error"):
        problems.append("no dlq.error")
    if not started <= int(h.get("dlq.at", b"0")) <= factories.now_ms():
        problems.append(f"dlq.at {h.get('dlq.at')!r} is not the time it was dead-lettered")
    return problems


def summary_table(summary: Counter[tuple[str, str]], sending: float, drained: float) -> str:
    rows = [(k, o, n) for (k, o), n in sorted(summary.items())] + [("all", "", sum(summary.values()))]
    table = text_table(("kind", "outcome", "records"), rows)
    return f"{table}\nsent in {sending:.1f} s, drained {drained:.1f} s after the first send"
