"""The tracking path for one partition's batch of raw records: outcomes and state changes, no I/O.

Per record: decode (poison -> dead letter) and move it to its campaign's home partition if it is
not there (``sort``); then evaluate the business rules against core data and the partition's state,
charge the budget and enrich (``judge``). The caller sends the outputs and the state changes, and
commits the input offsets only once all of them are acknowledged.

A replay of the very same message after a crash (same partition and offset as the accepted entry)
is neither a duplicate nor charged again; its output repeats the budget left that it had.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson

from pipeline.domain.enrich import core_fields, encode_enriched, event_fields, received_at
from pipeline.domain.errors import PoisonError
from pipeline.domain.events import decode_event
from pipeline.domain.pricing import to_micros
from pipeline.domain.rules import Accepted, Limits, Lookups, evaluate
from pipeline.domain.tracing import trace_id
from pipeline.kafka.partitioning import home_partition
from pipeline.state.partition import PartitionState
from pipeline.state.records import NO_SPEND, AcceptedEvent, Spend

NO_LIMIT = 1 << 62
_UNKNOWN = object()
Headers = Sequence[tuple[str, bytes]]


class RawRecord(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers


#: A record to write: key, value, headers.
Out = tuple[bytes | None, bytes | None, Headers]


@dataclasses.dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that cannot be processed: the caller writes it to the DLQ with its reason."""

    record: RawRecord
    reason: str
    error: str
    stage: str


@dataclasses.dataclass(frozen=True, slots=True)
class Destinations:
    raw: str
    realtime: str
    batch: str
    rejected: str


@dataclasses.dataclass
class Result:
    #: (topic, partition) -> records, in order: what the caller sends as record batches
    outputs: dict[tuple[str, int], list[Out]] = dataclasses.field(default_factory=lambda: defaultdict(list))
    dead_letters: list[DeadLetter] = dataclasses.field(default_factory=list)
    #: (outcome, campaign_id or None): ``accepted``, ``rejected:<reason>``, ``rerouted``
    counts: Counter[tuple[str, str | None]] = dataclasses.field(default_factory=Counter)


@dataclasses.dataclass(frozen=True, slots=True)
class Context:
    limits: Limits
    max_event_bytes: int
    partitions: int  # of the raw topic
    destinations: Destinations
    #: partitions of each output topic: an output goes to its campaign's home partition there
    output_partitions: dict[str, int]
    #: (entity, id) -> live data or None; asked once per id and entity for each ``judge`` call
    lookup: Callable[[str, str], dict[str, Any] | None]


Decoded = tuple[RawRecord, dict[str, Any]]


def process(records: Sequence[RawRecord], state: PartitionState, context: Context, now: int, result: Result) -> None:
    """Process ``records`` (all of ``state``'s partition, in offset order), adding to ``result``."""
    judge(sort(records, context, result), state, context, now, result)


def sort(records: Sequence[RawRecord], context: Context, result: Result) -> list[Decoded]:
    """Decode ``records``: poison to dead letters, events off their campaign's partition to the re-route
    outputs (to the raw topic, unchanged); the events to judge here are returned, in order.

    Apart from ``judge``: neither depends on core data or state, so the re-routes of a whole fetch can
    be on their way while its events are judged.
    """
    decoded: list[Decoded] = []
    for record in records:
        try:
            event = decode_event(record.value, context.max_event_bytes)
        except PoisonError as exc:
            result.dead_letters.append(DeadLetter(record, exc.reason, str(exc), "decode"))
            continue
        home = home_partition(event["campaign_id"], context.partitions)
        if home != record.partition:
            result.counts["rerouted", None] += 1
            result.outputs[context.destinations.raw, home].append(
                (event["campaign_id"].encode(), record.value, record.headers))
            continue
        decoded.append((record, event))
    return decoded


def judge(decoded: Sequence[Decoded], state: PartitionState, context: Context, now: int, result: Result) -> None:
    """The rules for ``decoded`` events of ``state``'s partition, in order, against core data and the state."""
    if not decoded:
        return
    state.prefetch(event["event_id"] for _, event in decoded)
    judging = _Judge(state, context, now, result)
    for record, event in decoded:
        try:
            judging(record, event)
        except Exception as exc:  # a bug met this event: it is kept in the DLQ, never skipped
            result.dead_letters.append(DeadLetter(record, "error", f"{type(exc).__name__}: {exc}", "process"))


class _Standing:
    """The event being judged as the partition's state has it: what the rules ask of the state.

    Whether its id was accepted before (not as this very message), what its campaign has spent, and
    the budget left. Apart from the judge, which sets it for each event: the lookups the rules call
    back refer to this and not to the judge, so a batch leaves no reference cycle, and its outputs are
    freed as soon as they are sent rather than at the cyclic collector's next run.
    """

    __slots__ = ("budget", "seen", "replay", "charged", "remaining")

    def __init__(self, budget: Callable[[str], dict[str, Any] | None]) -> None:
        self.budget = budget
        self.seen = False
        self.replay = False
        self.charged = NO_SPEND
        self.remaining: object = _UNKNOWN

    def seen_before(self, event_id: str) -> bool:
        return self.seen

    def remaining_micros(self, campaign_id: str) -> int | None:
        if self.replay:
            return NO_LIMIT  # charged before the crash; never charge twice
        if self.remaining is _UNKNOWN:  # asked by the rules, then for the output: looked up once
            budget = self.budget(campaign_id)
            self.remaining = None if budget is None else to_micros(budget["total"]) - self.charged.spent_micros
        return self.remaining  # type: ignore[return-value]


class _Judge:
    """The rules for one event after another; one ``Lookups`` serves them all (made once, not per event)."""

    def __init__(self, state: PartitionState, context: Context, now: int, result: Result) -> None:
        self.state, self.context, self.now, self.result = state, context, now, result
        self.expiry_ms = context.limits.dedupe_window_ms + context.limits.max_clock_skew_ms
        destinations, counts = context.destinations, context.output_partitions
        self.rejected, self.realtime, self.batch = destinations.rejected, destinations.realtime, destinations.batch
        self.rejected_count, self.realtime_count, self.batch_count = (
            counts[destinations.rejected], counts[destinations.realtime], counts[destinations.batch])
        self.standing = standing = _Standing(remembered(context.lookup, "budget"))
        self.lookups = Lookups(
            seen=standing.seen_before,
            campaign=remembered(context.lookup, "campaign"),
            publisher=remembered(context.lookup, "publisher"),
            slot=remembered(context.lookup, "slot"),
            remaining_micros=standing.remaining_micros,
        )
        #: (campaign_id, publisher_id, slot_id) -> the JSON of their core-data fields (the lookups are per segment too)
        self.core_jsons: dict[tuple[str, str, str], bytes] = {}
        #: campaign_id -> the lists its accepted events go to (one, shared by real-time and batch)
        self.accepted_outputs: dict[str, tuple[list[Out], ...]] = {}

    def core_json(self, event: dict[str, Any], verdict: Accepted) -> bytes:
        """The enriched record's core-data fields as JSON, encoded once per campaign, publisher and slot."""
        ids = event["campaign_id"], event["publisher_id"], event["slot_id"]
        found = self.core_jsons.get(ids)
        if found is None:
            found = self.core_jsons[ids] = orjson.dumps(core_fields(event, verdict))
        return found

    def __call__(self, record: RawRecord, event: dict[str, Any]) -> None:
        state, result = self.state, self.result
        campaign_id: str = event["campaign_id"]
        event_id: str = event["event_id"]
        prior = state.accepted(event_id)
        standing = self.standing
        standing.replay = replay = (prior is not None and prior.partition == record.partition
                                    and prior.offset == record.offset)
        # An entry is kept until every entry of its batch expired: past its own expiry it counts no more.
        standing.seen = prior is not None and not replay and prior.expires_at > self.now
        standing.charged = charged = state.spend(campaign_id)
        standing.remaining = _UNKNOWN
        verdict = evaluate(event, self.now, self.context.limits, self.lookups)
        key = campaign_id.encode()
        if not isinstance(verdict, Accepted):
            result.counts[f"rejected:{verdict.reason.value}", campaign_id] += 1
            rejection = {"reason": verdict.reason.value, "detail": verdict.detail, "event": event,
                         "rejected_at": self.now}
            result.outputs[self.rejected, home_partition(campaign_id, self.rejected_count)].append(
                (key, orjson.dumps(rejection), record.headers))
            return
        # Spend rows are logged before entries: an event at or below the charged offset is in the sum.
        charge = not replay and record.offset > charged.offset
        if replay:
            assert prior is not None
            remaining = prior.budget_remaining_micros
        else:
            remaining = standing.remaining_micros(campaign_id)
            if charge and remaining is not None:
                remaining -= verdict.cost_micros
        value = encode_enriched(event, self.core_json(event, verdict),
                                event_fields(verdict, remaining, self.now, trace_id(record.headers),
                                             received_at(record.headers)))
        # The state changes last: an event that fails before them leaves no trace in the state.
        if charge and verdict.cost_micros:
            state.charge(campaign_id, Spend(charged.spent_micros + verdict.cost_micros, record.offset))
        if not replay:
            state.accept(event_id, AcceptedEvent(record.partition, record.offset, remaining,
                                                 event["ts"] + self.expiry_ms))
        result.counts["accepted", campaign_id] += 1
        outputs = self.accepted_outputs.get(campaign_id)
        if outputs is None:
            outputs = self.accepted_outputs[campaign_id] = self.accepted_lists(campaign_id)
        out = (key, value, list(record.headers))  # a list: what the record builder takes
        for into in outputs:
            into.append(out)

    def accepted_lists(self, campaign_id: str) -> tuple[list[Out], ...]:
        """Where a campaign's accepted events go: one list that the real-time and the batch topic share.

        The outputs name the list for both (topic, partition)s, so the sender builds its record batches
        once for both (``pipeline.kafka.outbox``).
        """
        outputs = self.result.outputs
        realtime = (self.realtime, home_partition(campaign_id, self.realtime_count))
        batch = (self.batch, home_partition(campaign_id, self.batch_count))
        shared = outputs[realtime]
        if batch == realtime or outputs.setdefault(batch, shared) is not shared:
            return shared, outputs[batch]
        return (shared,)


def remembered(lookup: Callable[[str, str], dict[str, Any] | None],
               entity: str) -> Callable[[str], dict[str, Any] | None]:
    """``lookup`` of one entity, each id looked up once (for a segment: a barrier may change core data)."""
    memo: dict[str, dict[str, Any] | None] = {}

    def find(id_: str) -> dict[str, Any] | None:
        if id_ in memo:
            return memo[id_]
        found = memo[id_] = lookup(entity, id_)
        return found

    return find
