"""One partition's tracking state as the batch path sees it: reads, writes, and what to log.

Changes of the batch being processed are kept as they are made (the entries it accepted by event
id, its spend rows and tombstones by changelog key); ``seal`` turns them into the changes to send
to the changelog (its spend rows, one record for all the events it accepted, tombstones of expired
batches), and ``written`` keeps them in the local store once the changelog acknowledged them. A
sealed batch stays readable until then, so the next batch can be processed while the previous one's
records are on their way. Reads look at the rows of the current batch, of sealed
batches (newest first), then the local store (one multi-get per batch for the event ids it holds);
spend rows are few and live in memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from pipeline.state.records import AcceptedBatch, AcceptedEvent, NO_SPEND, Spend, accepted_key, spend_key
from pipeline.state.store import Change, PartitionStore

#: Expired accepted batches removed per batch at most (each is one tombstone, and a multi-get of its entries).
EXPIRE_PER_BATCH = 8

Rows = dict[bytes, Spend | None]  # changelog key -> spend row, or None: a tombstone
Entries = dict[str, AcceptedEvent]  # event_id -> the entry of an event the batch accepted


class Sealed:
    """A batch's changes, on their way to the changelog."""

    def __init__(self, entries: Entries, rows: Rows) -> None:
        self.entries = entries
        self.rows = rows
        spend: list[Change] = []
        tombstones: list[Change] = []
        for key, row in rows.items():
            if row is None:
                tombstones.append((key, None))
            else:
                spend.append((key, row.encode()))
        # Spend rows first: an event at or below a campaign's charged offset is never charged again
        # (``pipeline.state.batch``), so spend may land before the entries if the records are ever split.
        self.changes: list[Change] = spend
        #: the accepted batch, as the store would decode it from its record
        self.accepted = AcceptedBatch(list(entries), list(entries.values())) if entries else None
        if self.accepted is not None:
            self.changes.append((self.accepted.key, self.accepted.encode()))
        self.changes.extend(tombstones)

    def records(self) -> list[tuple[bytes, bytes | None, list[tuple[str, bytes]]]]:
        """The changes as changelog records (key, value, headers): made for the outbox, which lets go of
        them once they are built into record batches, while the sealed batch lives until acknowledged."""
        return [(key, value, []) for key, value in self.changes]


class PartitionState:
    def __init__(self, partition: int, store: PartitionStore) -> None:
        self.partition = partition
        self.store = store
        self._spend = store.spend()
        self._entries: Entries = {}
        self._rows: Rows = {}
        self._sealed: deque[Sealed] = deque()
        self._read: dict[str, bytes | None] = {}  # event_id -> its stored entry, prefetched

    def close(self) -> None:
        self.store.close()

    # ---- reads --------------------------------------------------------------------------------

    def _pending(self, key: bytes) -> bool:
        """Whether a batch not written yet changes the row ``key``."""
        return key in self._rows or any(key in sealed.rows for sealed in self._sealed)

    def prefetch(self, event_ids: Iterable[str]) -> None:
        """Read the stored entries of ``event_ids`` in one multi-get (before the batch's lookups)."""
        wanted = set(event_ids)
        wanted.difference_update(self._read, self._entries, *(sealed.entries for sealed in self._sealed))
        ids = list(wanted)
        self._read.update(zip(ids, self.store.get_many([accepted_key(i) for i in ids])))

    def accepted(self, event_id: str) -> AcceptedEvent | None:
        entry = self._entries.get(event_id)
        if entry is not None:
            return entry
        if event_id in self._read:  # prefetched: it was in no sealed batch, and those do not change
            value = self._read[event_id]
        else:
            for sealed in reversed(self._sealed):
                entry = sealed.entries.get(event_id)
                if entry is not None:
                    return entry
            value = self._read[event_id] = self.store.get_many([accepted_key(event_id)])[0]
        return None if value is None else AcceptedEvent.decode(value)

    def spend(self, campaign_id: str) -> Spend:
        return self._spend.get(campaign_id, NO_SPEND)

    def spend_rows(self) -> dict[str, Spend]:
        return dict(self._spend)

    # ---- writes -------------------------------------------------------------------------------

    def accept(self, event_id: str, entry: AcceptedEvent) -> None:
        self._entries[event_id] = entry

    def charge(self, campaign_id: str, spend: Spend) -> None:
        self._spend[campaign_id] = spend
        self._rows[spend_key(campaign_id)] = spend

    def expire(self, now_ms: int) -> int:
        """Tombstone the accepted batches whose entries' dedupe window (plus clock skew) is over; how many."""
        expired = [k for k in self.store.expired(now_ms, EXPIRE_PER_BATCH) if not self._pending(k)]
        for key in expired:
            self._rows[key] = None
        return len(expired)

    def seal(self) -> Sealed | None:
        """End the current batch: its changes to log, or None when it changed nothing."""
        self._read.clear()
        if not self._rows and not self._entries:
            return None
        sealed = Sealed(self._entries, self._rows)
        self._sealed.append(sealed)
        self._entries, self._rows = {}, {}
        return sealed

    def written(self, sealed: Sealed, changelog_offset: int) -> None:
        """The changelog acknowledged ``sealed`` (the oldest sealed batch) up to ``changelog_offset``."""
        assert self._sealed and self._sealed[0] is sealed, "sealed batches are written in order"
        self.store.apply(sealed.changes, changelog_offset, sealed.accepted)
        self._sealed.popleft()

    def discard(self) -> None:
        """Forget every change not written (their input is processed again after a restart)."""
        self._entries.clear()
        self._rows.clear()
        self._sealed.clear()
        self._read.clear()
        self._spend = self.store.spend()
