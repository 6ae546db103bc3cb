"""The per-campaign tracking state: the local store, and a partition's view of it across batches in flight."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.state.partition import PartitionState
from pipeline.state.records import AcceptedEvent, Spend, accepted_key, spend_key
from pipeline.state.store import PartitionStore


@pytest.fixture
def store(tmp_path: Path) -> PartitionStore:
    opened = PartitionStore(tmp_path / "tracking.raw-0")
    yield opened
    opened.close()


def entry(offset: int, expires_at: int = 10_000, remaining: int | None = 5) -> AcceptedEvent:
    return AcceptedEvent(0, offset, remaining, expires_at)


def test_rows_round_trip_with_full_field_names() -> None:
    assert AcceptedEvent.decode(entry(3).encode()) == entry(3)
    assert entry(3, remaining=None).encode() == (
        b'{"partition":0,"offset":3,"budget_remaining_micros":null,"expires_at":10000}')
    assert Spend.decode(Spend(7, 3).encode()) == Spend(7, 3)
    assert Spend(7, 3).encode() == b'{"spent_micros":7,"offset":3}'


def test_a_new_store_holds_nothing_and_no_changelog_offset(store: PartitionStore) -> None:
    assert store.offset == -1
    assert store.spend() == {}
    assert store.get_many([accepted_key("e1")]) == [None]
    assert store.expired(1 << 50, 10) == []


def test_a_write_keeps_rows_and_the_changelog_offset_together_across_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "p"
    store = PartitionStore(path)
    store.apply([(spend_key("c1"), Spend(9, 4).encode()), (accepted_key("e1"), entry(4).encode())], 17)
    store.close()
    store = PartitionStore(path)
    try:
        assert store.offset == 17
        assert store.spend() == {"c1": Spend(9, 4)}
        assert store.get_many([accepted_key("e1")]) == [entry(4).encode()]
    finally:
        store.close()


def test_entries_expire_in_order_of_expiry_and_a_tombstone_removes_the_index_row(store: PartitionStore) -> None:
    store.apply([(accepted_key("late"), entry(1, expires_at=3000).encode()),
                 (accepted_key("early"), entry(2, expires_at=1000).encode()),
                 (accepted_key("middle"), entry(3, expires_at=2000).encode())], 2)
    assert store.expired(999, 10) == []
    assert store.expired(2000, 1) == [accepted_key("early")]
    # The scan goes on from where it stopped, that row included while it is not deleted.
    assert store.expired(2000, 10) == [accepted_key("early"), accepted_key("middle")]
    store.apply([(accepted_key("early"), None)], 3)
    assert store.get_many([accepted_key("early")]) == [None]
    assert store.expired(5000, 10) == [accepted_key("middle"), accepted_key("late")]


def test_a_reopened_store_scans_for_expired_entries_from_the_start(tmp_path: Path) -> None:
    store = PartitionStore(tmp_path / "p")
    store.apply([(accepted_key("a"), entry(1, expires_at=1000).encode()),
                 (accepted_key("b"), entry(2, expires_at=2000).encode())], 1)
    assert store.expired(5000, 10) == [accepted_key("a"), accepted_key("b")]
    store.close()
    store = PartitionStore(tmp_path / "p")
    try:
        assert store.expired(5000, 10) == [accepted_key("a"), accepted_key("b")]
    finally:
        store.close()


def test_expiries_given_by_the_caller_index_the_entries_like_their_values_would(store: PartitionStore) -> None:
    store.apply([(accepted_key("e"), entry(1, expires_at=500).encode())], 0, {accepted_key("e"): 500})
    assert store.expired(500, 10) == [accepted_key("e")]


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
    assert store.get_many([accepted_key("e1"), accepted_key("e2")]) == [entry(1).encode(), entry(2).encode()]


def test_sealed_changes_list_spend_rows_first(store: PartitionStore) -> None:
    state = PartitionState(0, store)
    state.accept("e1", entry(1))
    state.charge("c1", Spend(10, 1))
    state.accept("e2", entry(2))
    sealed = state.seal()
    assert sealed is not None
    assert [key for key, _ in sealed.changes] == [spend_key("c1"), accepted_key("e1"), accepted_key("e2")]


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


def test_expired_entries_become_tombstones_once(store: PartitionStore) -> None:
    store.apply([(accepted_key("old"), entry(1, expires_at=1000).encode()),
                 (accepted_key("new"), entry(2, expires_at=9000).encode())], 1)
    state = PartitionState(0, store)
    assert state.expire(5000) == 1
    assert state.expire(5000) == 0  # already a tombstone of this batch
    sealed = state.seal()
    assert sealed is not None and sealed.changes == [(accepted_key("old"), None)]
    assert state.expire(5000) == 0  # and of the batch in flight
    state.written(sealed, 2)
    assert store.get_many([accepted_key("old"), accepted_key("new")]) == [None, entry(2, expires_at=9000).encode()]
    assert store.expired(5000, 10) == []
