"""One partition's batch of raw records to outcomes and state changes, with core data in plain dicts."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from pipeline.domain.rules import Limits
from pipeline.kafka.partitioning import home_partition
from pipeline.state import batch
from pipeline.state.partition import PartitionState
from pipeline.state.records import AcceptedEvent, Spend
from pipeline.state.store import PartitionStore
from tests import factories

NOW = 1_767_225_600_000
PARTITIONS = 4
WINDOW_MS, SKEW_MS = 60_000, 5_000
DESTINATIONS = batch.Destinations("raw", "realtime", "batch", "rejected")
CAMPAIGN = "cmp-batch"
PARTITION = home_partition(CAMPAIGN, PARTITIONS)
CORE: dict[tuple[str, str], dict[str, Any]] = {
    ("campaign", CAMPAIGN): factories.campaign_data(start_ts=NOW - 10 * factories.HOUR_MS, price=2.0),
    ("publisher", "pub-1"): factories.publisher_data(),
    ("slot", "slot-1"): factories.slot_data("pub-1"),
    ("budget", CAMPAIGN): {"total": 0.006},  # exactly three impressions at a CPM of 2.0
}


@dataclasses.dataclass
class FetchedRecord:
    """A record of tracking.raw as the consumer hands it to a batch."""

    offset: int
    value: bytes | None
    partition: int = PARTITION
    topic: str = "raw"
    key: bytes | None = CAMPAIGN.encode()
    headers: tuple[tuple[str, bytes], ...] = ()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[PartitionState]:
    store = PartitionStore(tmp_path / "p")
    yield PartitionState(PARTITION, store)
    store.close()


def context(core: dict[tuple[str, str], Any] = CORE) -> batch.Context:
    return batch.Context(Limits(WINDOW_MS, SKEW_MS), 65536, PARTITIONS, DESTINATIONS,
                         {"raw": PARTITIONS, "realtime": PARTITIONS, "batch": 2, "rejected": 3},
                         lambda entity, id_: core.get((entity, id_)))


def raw(offset: int, **overrides: Any) -> FetchedRecord:
    fields = {"event_id": f"e{offset}", "ts": NOW - 1000, **overrides}
    return FetchedRecord(offset, orjson.dumps(factories.event(CAMPAIGN, "pub-1", "slot-1", **fields)))


def run(state: PartitionState, records: list[FetchedRecord], core: dict = CORE) -> batch.Result:
    result = batch.Result()
    batch.process(records, state, context(core), NOW, result)
    return result


def by_destination(result: batch.Result, destination: str) -> list[dict[str, Any]]:
    """The values written to ``destination``, each checked to go to its campaign's home partition there."""
    found = []
    for (topic, partition), records in result.outputs.items():
        if topic == destination:
            for key, value, _ in records:
                assert partition == home_partition(key.decode(), context().output_partitions[topic])
                found.append(orjson.loads(value))
    return found


def test_an_accepted_event_goes_to_realtime_and_batch_and_is_charged(state: PartitionState) -> None:
    result = run(state, [raw(10)])
    realtime = by_destination(result, "realtime")
    assert realtime == by_destination(result, "batch")
    assert [r["event_id"] for r in realtime] == ["e10"]
    assert realtime[0]["cost"] == 0.002 and realtime[0]["budget_remaining"] == 0.004
    assert result.counts == {("accepted", CAMPAIGN): 1}
    assert state.spend(CAMPAIGN) == Spend(2000, 10)
    assert state.accepted("e10") == AcceptedEvent(PARTITION, 10, 4000, NOW - 1000 + WINDOW_MS + SKEW_MS)


def test_a_batch_leaves_no_reference_cycle_behind(state: PartitionState) -> None:
    """What a batch made is freed as soon as its caller lets go of it, not at the collector's next run.

    The judge and the lookups that the rules call back once referred to each other. The cycle kept every
    output record of a batch alive until Python's cyclic collector found it: some 20 000 objects for
    each young collection in a worker, and their bytes held meanwhile.
    """
    records = [raw(10), raw(11), raw(12, event_id="e10"), FetchedRecord(13, b"{not json")]
    gc.collect()
    gc.disable()
    try:
        result = run(state, records)
        assert result.outputs and result.dead_letters and result.counts  # accepted, rejected and poison
        del result
        assert gc.collect() == 0  # nothing was left for the cyclic collector
    finally:
        gc.enable()


def test_a_campaigns_realtime_and_batch_outputs_are_one_list_which_the_outbox_builds_once(
        state: PartitionState) -> None:
    result = run(state, [raw(10), raw(11)])
    realtime = result.outputs["realtime", home_partition(CAMPAIGN, PARTITIONS)]
    assert result.outputs["batch", home_partition(CAMPAIGN, 2)] is realtime
    assert [orjson.loads(value)["event_id"] for _, value, _ in realtime] == ["e10", "e11"]


def test_a_budget_for_exactly_three_events_accepts_exactly_three(state: PartitionState) -> None:
    result = run(state, [raw(i) for i in range(5)])
    assert [r["event_id"] for r in by_destination(result, "realtime")] == ["e0", "e1", "e2"]
    assert [r["reason"] for r in by_destination(result, "rejected")] == ["budget_exhausted"] * 2
    assert state.spend(CAMPAIGN).spent_micros == 6000


def test_a_second_copy_of_an_event_id_is_a_duplicate_in_the_same_batch_and_the_next(state: PartitionState) -> None:
    first = run(state, [raw(1), raw(2, event_id="e1")])
    assert [r["reason"] for r in by_destination(first, "rejected")] == ["duplicate"]
    state.seal()
    later = run(state, [raw(3, event_id="e1")])
    assert [r["reason"] for r in by_destination(later, "rejected")] == ["duplicate"]
    assert state.spend(CAMPAIGN).spent_micros == 2000


def test_a_replay_of_the_very_same_message_is_accepted_again_and_never_charged_twice(state: PartitionState) -> None:
    first = run(state, [raw(7), raw(8)])
    sealed = state.seal()
    assert sealed is not None
    state.written(sealed, 0)
    again = run(state, [raw(7), raw(8)])  # after a crash, before the input offsets were committed
    assert by_destination(again, "rejected") == []
    assert ([r["budget_remaining"] for r in by_destination(again, "realtime")]
            == [r["budget_remaining"] for r in by_destination(first, "realtime")] == [0.004, 0.002])
    assert state.spend(CAMPAIGN).spent_micros == 4000


def test_an_event_at_or_below_the_charged_offset_is_not_charged_again(state: PartitionState) -> None:
    # The spend row of a batch landed but not its entries (records split): the charge is in the sum.
    state.charge(CAMPAIGN, Spend(2000, 5))
    state.seal()
    result = run(state, [raw(5)])
    assert [r["event_id"] for r in by_destination(result, "realtime")] == ["e5"]
    assert state.spend(CAMPAIGN) == Spend(2000, 5)


def test_an_event_off_its_home_partition_is_moved_there_unchanged(state: PartitionState) -> None:
    elsewhere = dataclasses.replace(raw(3), partition=(PARTITION + 1) % PARTITIONS, headers=(("h", b"1"),))
    result = run(state, [elsewhere])
    assert result.outputs == {("raw", PARTITION): [(CAMPAIGN.encode(), elsewhere.value, (("h", b"1"),))]}
    assert result.counts == {("rerouted", None): 1}
    assert state.seal() is None


def test_sorting_reads_no_state_or_core_data_and_leaves_the_events_to_judge_in_order(
        state: PartitionState) -> None:
    """Re-routes and poison are known before any event is judged: a fetch's re-routes are sent first."""
    def no_core_data(entity: str, id_: str) -> None:
        raise AssertionError(f"sorting looked up {entity} {id_}")

    sorting = dataclasses.replace(context(), lookup=no_core_data)
    elsewhere = dataclasses.replace(raw(3), partition=(PARTITION + 1) % PARTITIONS)
    poison = FetchedRecord(4, b"{not json")
    result = batch.Result()
    decoded = batch.sort([raw(1), elsewhere, poison, raw(5)], sorting, result)
    assert [(record.offset, event["event_id"]) for record, event in decoded] == [(1, "e1"), (5, "e5")]
    assert result.outputs == {("raw", PARTITION): [(CAMPAIGN.encode(), elsewhere.value, ())]}
    assert [(d.record, d.reason) for d in result.dead_letters] == [(poison, "malformed")]
    assert state.seal() is None  # nothing judged, nothing changed

    batch.judge(decoded, state, context(), NOW, result)
    assert [r["event_id"] for r in by_destination(result, "realtime")] == ["e1", "e5"]
    assert result.counts == {("rerouted", None): 1, ("accepted", CAMPAIGN): 2}


@pytest.mark.parametrize("value, reason", [
    (b"{not json", "malformed"), (None, "malformed"), (b"[1]", "malformed"),
    (orjson.dumps({"event_id": "x"}), "schema"), (b'{"pad": "' + b"x" * 70000 + b'"}', "oversized"),
])
def test_poison_becomes_a_dead_letter_with_its_reason(state: PartitionState, value: bytes | None, reason: str) -> None:
    poison = FetchedRecord(4, value)
    result = run(state, [poison, raw(5)])
    assert [(d.record, d.reason, d.stage) for d in result.dead_letters] == [(poison, reason, "decode")]
    assert [r["event_id"] for r in by_destination(result, "realtime")] == ["e5"]


def test_rules_see_the_core_data_they_are_given(state: PartitionState) -> None:
    paused = {**CORE, ("campaign", CAMPAIGN): {**CORE["campaign", CAMPAIGN], "status": "paused"}}
    result = run(state, [raw(1)], paused)
    assert [r["reason"] for r in by_destination(result, "rejected")] == ["campaign_inactive"]
    assert result.counts == {("rejected:campaign_inactive", CAMPAIGN): 1}


def test_an_event_older_than_the_window_is_stale_not_accepted(state: PartitionState) -> None:
    result = run(state, [raw(1, ts=NOW - WINDOW_MS - 1)])
    assert [r["reason"] for r in by_destination(result, "rejected")] == ["stale_event"]


def test_a_copy_after_its_entry_expired_is_stale_though_the_entry_is_still_kept(state: PartitionState) -> None:
    # Entries are removed with the last of their batch: one past its own expiry must not make a duplicate.
    ts = NOW - WINDOW_MS - SKEW_MS - 1
    state.accept("e1", AcceptedEvent(PARTITION, 1, None, ts + WINDOW_MS + SKEW_MS))
    state.seal()
    result = run(state, [raw(2, event_id="e1", ts=ts)])
    assert [r["reason"] for r in by_destination(result, "rejected")] == ["stale_event"]
