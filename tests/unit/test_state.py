"""The per-campaign tracking state: the local store, and a partition's view of it across batches in flight."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.state.partition import PartitionState
from pipeline.state.records import AcceptedBatch, AcceptedEvent, Spend, accepted_batch_key, accepted_key, spend_key
from pipeline.state.store import BATCH, Change, PartitionStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PartitionStore]:
    opened = PartitionStore(tmp_path / "tracking.raw-0")
    yield opened
    opened.close()


def entry(offset: int, expires_at: int = 10_000, remaining: int | None = 5) -> AcceptedEvent:
    return AcceptedEvent(0, offset, remaining, expires_at)


def accepted(*events: tuple[str, AcceptedEvent]) -> Change:
    """The changelog record of a batch that accepted ``events``."""
    batch = AcceptedBatch([event_id for event_id, _ in events], [e for _, e in events])
    return batch.key, batch.encode()


def entries(store: PartitionStore, *event_ids: str) -> list[AcceptedEvent | None]:
    return [None if value is None else AcceptedEvent.decode(value)
            for value in store.get_many([accepted_key(i) for i in event_ids])]


def test_rows_round_trip_with_full_field_names() -> None:
    assert AcceptedEvent.decode(entry(3).encode()) == entry(3)
    assert entry(3, remaining=None).encode() == (
        b'{"partition":0,"offset":3,"budget_remaining_micros":null,"expires_at":10000}')
    assert Spend.decode(Spend(7, 3).encode()) == Spend(7, 3)
    assert Spend(7, 3).encode() == b'{"spent_micros":7,"offset":3}'


def test_an_accepted_batch_is_one_record_of_columns_under_its_first_offset() -> None:
    batch = AcceptedBatch(["e1", "e2"], [entry(4, 9000, None), entry(6, 8000, 3)])
    assert batch.key == b"accepted-batch:4" == accepted_batch_key(4)
    assert batch.expires_at == 9000
    assert batch.encode() == (b'{"partition":0,"event_ids":["e1","e2"],"offsets":[4,6],'
                              b'"budget_remaining_micros":[null,3],"expires_at":[9000,8000]}')
    decoded = AcceptedBatch.decode(batch.encode())
    assert list(decoded.items()) == [("e1", entry(4, 9000, None)), ("e2", entry(6, 8000, 3))]


def test_a_new_store_holds_nothing_and_no_changelog_offset(store: PartitionStore) -> None:
    assert store.offset == -1
    assert store.spend() == {}
    assert store.get_many([accepted_key("e1")]) == [None]
    assert store.expired(1 << 50, 10) == []


def test_a_write_keeps_rows_and_the_changelog_offset_together_across_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "p"
    store = PartitionStore(path)
    store.apply([(spend_key("c1"), Spend(9, 4).encode()), accepted(("e1", entry(4)), ("e2", entry(5)))], 17)
    store.close()
    store = PartitionStore(path)
    try:
        assert store.offset == 17
        assert store.spend() == {"c1": Spend(9, 4)}
        assert entries(store, "e1", "e2", "e3") == [entry(4), entry(5), None]
    finally:
        store.close()


def test_batches_expire_once_their_last_entry_did_in_order_and_a_tombstone_removes_them(store: PartitionStore) -> None:
    late = accepted(("a", entry(1, expires_at=1000)), ("b", entry(2, expires_at=3000)))
    early = accepted(("c", entry(3, expires_at=1000)))
    middle = accepted(("d", entry(4, expires_at=2000)))
    store.apply([late, early, middle], 2)
    assert store.expired(999, 10) == []
    assert store.expired(2000, 1) == [early[0]]
    # The scan goes on from where it stopped, that row included while it is not deleted.
    assert store.expired(2000, 10) == [early[0], middle[0]]
    store.apply([(early[0], None)], 3)
    assert entries(store, "a", "b", "c", "d") == [entry(1, 1000), entry(2, 3000), None, entry(4, 2000)]
    assert store.get_many([BATCH + early[0]]) == [None]
    assert store.expired(5000, 10) == [middle[0], late[0]]
    store.apply([(middle[0], None), (late[0], None)], 4)
    assert entries(store, "a", "b", "d") == [None, None, None]
    assert store.expired(1 << 50, 10) == []


def test_a_reopened_store_scans_for_expired_batches_from_the_start(tmp_path: Path) -> None:
    store = PartitionStore(tmp_path / "p")
    first, second = accepted(("a", entry(1, expires_at=1000))), accepted(("b", entry(2, expires_at=2000)))
    store.apply([first, second], 1)
    assert store.expired(5000, 10) == [first[0], second[0]]
    store.close()
    store = PartitionStore(tmp_path / "p")
    try:
        assert store.expired(5000, 10) == [first[0], second[0]]
    finally:
        store.close()


def test_removing_a_batch_keeps_an_event_of_the_same_id_accepted_since(store: PartitionStore) -> None:
    old = accepted(("e", entry(1, expires_at=1000)), ("f", entry(2, expires_at=1000)))
    again = accepted(("e", entry(7, expires_at=9000)))
    store.apply([old], 1)
    store.apply([again], 2)
    store.apply([(old[0], None)], 3)
    assert entries(store, "e", "f") == [entry(7, expires_at=9000), None]


def test_in_one_write_an_event_accepted_again_outlives_the_removal_of_its_old_batch(store: PartitionStore) -> None:
    old = accepted(("e", entry(1, expires_at=1000)))
    store.apply([old], 1)
    store.apply([accepted(("e", entry(7, expires_at=9000))), (old[0], None)], 3)
    assert entries(store, "e") == [entry(7, expires_at=9000)]


def test_a_batch_and_its_tombstone_in_one_write_leave_nothing(store: PartitionStore) -> None:
    batch = accepted(("e", entry(1, expires_at=1000)))
    store.apply([batch, (spend_key("c"), Spend(1, 1).encode()), (batch[0], None)], 9)
    assert entries(store, "e") == [None]
    assert store.expired(1 << 50, 10) == []
    assert store.offset == 9 and store.spend() == {"c": Spend(1, 1)}


# A changelog: batches accepting events (ids may come again: an id is accepted again once expired),
# and tombstones of earlier batches. Applied in any chunks, the store holds what the changelog says.
_events = st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(1, 5)), min_size=1, max_size=4)
_steps = st.lists(st.one_of(st.tuples(st.just("accept"), _events), st.tuples(st.just("remove"), st.integers(0, 20))),
                  max_size=20)


@settings(max_examples=300, deadline=None)
@given(_steps, st.lists(st.integers(1, 4), min_size=1, max_size=20))
def test_applied_in_any_chunks_the_store_holds_the_entries_of_the_batches_not_removed(
    steps: list[tuple[str, object]], chunks: list[int]
) -> None:
    changelog: list[Change] = []
    batches: list[AcceptedBatch] = []
    offset = 0
    for kind, what in steps:
        if kind == "accept":
            ids, items = [], []
            for event_id, expires in what:  # type: ignore[union-attr]
                if event_id not in ids:
                    offset += 1
                    ids.append(event_id)
                    items.append(entry(offset, expires_at=expires))
            batch = AcceptedBatch(ids, items)
            batches.append(batch)
            changelog.append((batch.key, batch.encode()))
        elif batches:
            changelog.append((batches[what % len(batches)].key, None))  # type: ignore[operator]
    # What the changelog says: each event id's entry in the last batch that accepted it, while that
    # batch is not removed. Once it is, an older entry of the id may be held if its batch is not
    # removed either: an id is accepted again only once its older entry expired, so it counts no more.
    live: dict[bytes, AcceptedBatch] = {}
    latest: dict[str, tuple[bytes, AcceptedEvent]] = {}
    for key, value in changelog:
        if value is None:
            live.pop(key, None)
        else:
            live[key] = AcceptedBatch.decode(value)
            latest.update((event_id, (key, e)) for event_id, e in live[key].items())
    expected = {event_id: e for event_id, (key, e) in latest.items() if key in live}
    older = {(event_id, e) for batch in live.values() for event_id, e in batch.items()}
    with TemporaryDirectory() as folder:
        store = PartitionStore(Path(folder) / "p")
        try:
            start = 0
            for size in chunks * len(changelog):
                if start >= len(changelog):
                    break
                store.apply(changelog[start:start + size], start + size - 1)
                start += size
            held = {i: e for i, e in zip("abcdef", entries(store, *"abcdef")) if e is not None}
            assert {i: e for i, e in held.items() if i in expected} == expected
            assert {(i, e) for i, e in held.items() if i not in expected} <= older
            assert store.expired(1 << 50, 100) == sorted(live, key=lambda k: (live[k].expires_at, k))
        finally:
            store.close()


def test_a_batch_reads_its_own_changes_and_those_of_the_batch_still_in_flight(store: PartitionStore) -> None:
    state = PartitionState(0, store)
    state.accept("e1", entry(1))
    state.charge("c1", Spend(10, 1))
    first = state.seal()
    assert first is not None
    # The next batch, while the first one's changelog records are unacknowledged:
    state.prefetch(["e1", "e2"])
    assert state.accepted("e1") == entry(1)
    assert state.accepted("e2") is None
    assert state.spend("c1") == Spend(10, 1)
    state.accept("e2", entry(2))
    second = state.seal()
    assert second is not None
    state.written(first, 5)
    assert store.offset == 5 and state.accepted("e2") == entry(2)
    state.written(second, 6)
    assert entries(store, "e1", "e2") == [entry(1), entry(2)]


def test_a_sealed_batch_logs_spend_rows_first_then_one_record_of_what_it_accepted(store: PartitionStore) -> None:
    state = PartitionState(0, store)
    state.accept("e1", entry(1))
    state.charge("c1", Spend(10, 1))
    state.accept("e2", entry(2))
    sealed = state.seal()
    assert sealed is not None
    assert sealed.changes == [(spend_key("c1"), Spend(10, 1).encode()), accepted(("e1", entry(1)), ("e2", entry(2)))]
    assert [(key, value) for key, value, _headers in sealed.records()] == sealed.changes


def test_batches_are_written_in_the_order_they_were_sealed(store: PartitionStore) -> None:
    state = PartitionState(0, store)
    state.accept("e1", entry(1))
    first = state.seal()
    state.accept("e2", entry(2))
    second = state.seal()
    assert first is not None and second is not None
    with pytest.raises(AssertionError):
        state.written(second, 1)


def test_a_batch_that_changed_nothing_has_nothing_to_log(store: PartitionStore) -> None:
    assert PartitionState(0, store).seal() is None


def test_discarding_forgets_every_unwritten_change_and_spend_returns_to_the_store(store: PartitionStore) -> None:
    store.apply([(spend_key("c1"), Spend(10, 1).encode())], 0)
    state = PartitionState(0, store)
    state.charge("c1", Spend(20, 2))
    state.accept("e2", entry(2))
    state.seal()
    state.charge("c1", Spend(30, 3))
    state.discard()
    assert state.spend("c1") == Spend(10, 1)
    assert state.accepted("e2") is None
    assert state.seal() is None


def test_expired_batches_become_tombstones_once(store: PartitionStore) -> None:
    old, new = accepted(("old", entry(1, expires_at=1000))), accepted(("new", entry(2, expires_at=9000)))
    store.apply([old, new], 1)
    state = PartitionState(0, store)
    assert state.expire(5000) == 1
    assert state.expire(5000) == 0  # already a tombstone of this batch
    sealed = state.seal()
    assert sealed is not None and sealed.changes == [(old[0], None)]
    assert state.expire(5000) == 0  # and of the batch in flight
    state.written(sealed, 2)
    assert entries(store, "old", "new") == [None, entry(2, expires_at=9000)]
    assert store.expired(5000, 10) == []
