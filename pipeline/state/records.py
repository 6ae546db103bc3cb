"""The rows of the per-campaign tracking state, as stored locally and on the state changelog.

The changelog holds two kinds of record, each under a prefixed key so one partition holds both:

- ``accepted-batch:<offset>``: the events one input batch accepted, under the input offset of the
  first of them (an input offset is accepted at most once, so no two batches share a key). Per
  event: its id, where it was accepted (so a replay of the very same message after a crash is told
  from a duplicate), the budget left after it (so the replay's output says the same), and when its
  entry expires (the event's ts + dedupe window + clock skew). One record per batch, not per event:
  the changelog costs the hot path a record per batch. Tombstoned once all its entries expired
  (docs/decisions/0006-one-changelog-record-per-batch.md).
- ``spend:<campaign_id>``: micros charged to the campaign, and the offset of the last event charged
  (an event at or below it is already in the sum and is never charged again).

The local store expands an accepted batch into one ``accepted:<event_id>`` row per event, the rows
the dedupe check reads. A tombstone (value None) removes a row. Values are JSON objects with full
field names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import orjson

ACCEPTED = b"accepted:"
ACCEPTED_BATCH = b"accepted-batch:"
SPEND = b"spend:"


class AcceptedEvent(NamedTuple):  # a named tuple: one is made per accepted event, on the hot path
    partition: int
    offset: int
    budget_remaining_micros: int | None
    expires_at: int  # epoch ms

    def encode(self) -> bytes:
        return orjson.dumps({"partition": self.partition, "offset": self.offset,
                             "budget_remaining_micros": self.budget_remaining_micros, "expires_at": self.expires_at})

    @classmethod
    def decode(cls, value: bytes) -> AcceptedEvent:
        row = orjson.loads(value)
        return cls(row["partition"], row["offset"], row["budget_remaining_micros"], row["expires_at"])


class AcceptedBatch(NamedTuple):
    """The entries of the events one batch accepted, in the order it accepted them."""

    event_ids: Sequence[str]
    entries: Sequence[AcceptedEvent]

    @property
    def key(self) -> bytes:
        return accepted_batch_key(self.entries[0].offset)

    @property
    def expires_at(self) -> int:
        """When the last of its entries expires."""
        return max(entry.expires_at for entry in self.entries)

    def items(self) -> Iterator[tuple[str, AcceptedEvent]]:
        return zip(self.event_ids, self.entries)

    def encode(self) -> bytes:
        """One JSON object of columns: the partition once, then a list per field, one item per event."""
        entries = self.entries
        return orjson.dumps({
            "partition": entries[0].partition,
            "event_ids": self.event_ids,
            "offsets": [entry.offset for entry in entries],
            "budget_remaining_micros": [entry.budget_remaining_micros for entry in entries],
            "expires_at": [entry.expires_at for entry in entries],
        })

    @classmethod
    def decode(cls, value: bytes) -> AcceptedBatch:
        row = orjson.loads(value)
        partition = row["partition"]
        return cls(row["event_ids"], [AcceptedEvent(partition, *fields) for fields in
                                      zip(row["offsets"], row["budget_remaining_micros"], row["expires_at"])])


class Spend(NamedTuple):
    spent_micros: int
    offset: int  # the last event charged; -1 for none

    def encode(self) -> bytes:
        return orjson.dumps({"spent_micros": self.spent_micros, "offset": self.offset})

    @classmethod
    def decode(cls, value: bytes) -> Spend:
        row = orjson.loads(value)
        return cls(row["spent_micros"], row["offset"])


NO_SPEND = Spend(0, -1)


def accepted_key(event_id: str) -> bytes:
    return ACCEPTED + event_id.encode()


def accepted_batch_key(first_offset: int) -> bytes:
    return b"%s%d" % (ACCEPTED_BATCH, first_offset)


def spend_key(campaign_id: str) -> bytes:
    return SPEND + campaign_id.encode()
