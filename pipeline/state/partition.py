"""One partition's tracking state as the batch path sees it: reads, writes, and what to log.

Changes of the batch being processed are kept as rows; ``seal`` turns them into the changes to send
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

from pipeline.state.records import ACCEPTED, AcceptedBatch, AcceptedEvent, NO_SPEND, Spend, accepted_key, spend_key
from pipeline.state.store import Change, PartitionStore

#: Expired accepted batches removed per batch at most (each is one tombstone, and a multi-get of its entries).
EXPIRE_PER_BATCH = 8

Rows = dict[bytes, AcceptedEvent | Spend | None]


class Sealed:
    """A batch's changes, on their way to the changelog."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        spend: list[Change] = []
        tombstones: list[Change] = []
        event_ids: list[str] = []
        entries: list[AcceptedEvent] = []
        for key, row in rows.items():
            if type(row) is AcceptedEvent:
                event_ids.append(key[len(ACCEPTED):].decode())
                entries.append(row)
            elif row is None:
                tombstones.append((key, None))
            else:
                spend.append((key, row.encode()))
        # Spend rows first: an event at or below a campaign's charged offset is never charged again
        # (``pipeline.state.batch``), so spend may land before the entries if the records are ever split.
        self.changes: list[Change] = spend
        #: the accepted batch, as the store would decode it from its record
        self.accepted = AcceptedBatch(event_ids, entries) if entries else None
        if self.accepted is not None:
            self.changes.append((self.accepted.key, self.accepted.encode()))
        self.changes.extend(tombstones)
        #: the changes as changelog records (key, value, headers)
        self.records = [(key, value, []) for key, value in self.changes]


class PartitionState:
    def __init__(self, partition: int, store: PartitionStore) -> None:
        self.partition = partition
        self.store = store
        self._spend = store.spend()
        self._rows: Rows = {}
        self._sealed: deque[Sealed] = deque()
        self._read: dict[bytes, bytes | None] = {}

    def close(self) -> None:
        self.store.close()

    # ---- reads --------------------------------------------------------------------------------

    def _pending(self, key: bytes) -> tuple[bool, AcceptedEvent | Spend | None]:
        if key in self._rows:
            return True, self._rows[key]
        for sealed in reversed(self._sealed):
            if key in sealed.rows:
                return True, sealed.rows[key]
        return False, None

    def prefetch(self, event_ids: Iterable[str]) -> None:
        """Read the stored entries of ``event_ids`` in one multi-get (before the batch's lookups)."""
        keys = {accepted_key(i) for i in event_ids}
        keys.difference_update(self._read, self._rows, *(sealed.rows for sealed in self._sealed))
        wanted = list(keys)
        self._read.update(zip(wanted, self.store.get_many(wanted)))

    def accepted(self, event_id: str) -> AcceptedEvent | None:
        key = accepted_key(event_id)
        if key in self._rows:
            return self._rows[key]  # type: ignore[return-value]
        if key in self._read:  # prefetched: it was in no sealed batch, and those do not change
            value = self._read[key]
        else:
            found, row = self._pending(key)
            if found:
                return row  # type: ignore[return-value]
            value = self._read[key] = self.store.get_many([key])[0]
        return None if value is None else AcceptedEvent.decode(value)

    def spend(self, campaign_id: str) -> Spend:
        return self._spend.get(campaign_id, NO_SPEND)

    def spend_rows(self) -> dict[str, Spend]:
        return dict(self._spend)

    # ---- writes -------------------------------------------------------------------------------

    def accept(self, event_id: str, entry: AcceptedEvent) -> None:
        self._rows[accepted_key(event_id)] = entry

    def charge(self, campaign_id: str, spend: Spend) -> None:
        self._spend[campaign_id] = spend
        self._rows[spend_key(campaign_id)] = spend

    def expire(self, now_ms: int) -> int:
        """Tombstone the accepted batches whose entries' dedupe window (plus clock skew) is over; how many."""
        expired = [k for k in self.store.expired(now_ms, EXPIRE_PER_BATCH) if not self._pending(k)[0]]
        for key in expired:
            self._rows[key] = None
        return len(expired)

    def seal(self) -> Sealed | None:
        """End the current batch: its changes to log, or None when it changed nothing."""
        self._read.clear()
        if not self._rows:
            return None
        sealed = Sealed(self._rows)
        self._sealed.append(sealed)
        self._rows = {}
        return sealed

    def written(self, sealed: Sealed, changelog_offset: int) -> None:
        """The changelog acknowledged ``sealed`` (the oldest sealed batch) up to ``changelog_offset``."""
        assert self._sealed and self._sealed[0] is sealed, "sealed batches are written in order"
        self.store.apply(sealed.changes, changelog_offset, sealed.accepted)
        self._sealed.popleft()

    def discard(self) -> None:
        """Forget every change not written (their input is processed again after a restart)."""
        self._rows.clear()
        self._sealed.clear()
        self._read.clear()
        self._spend = self.store.spend()
