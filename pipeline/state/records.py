"""The rows of the per-campaign tracking state, as stored locally and on the state changelog.

Two kinds of row, each under a prefixed key so one changelog partition holds both:

- ``accepted:<event_id>``: an accepted event, where it was accepted (so a replay of the very same
  message after a crash is told from a duplicate), the budget left after it (so the replay's
  output says the same), and when the entry expires (the event's ts + dedupe window + clock skew).
- ``spend:<campaign_id>``: micros charged to the campaign, and the offset of the last event charged
  (an event at or below it is already in the sum and is never charged again).

A tombstone (value None) removes a row. Values are JSON objects with full field names.
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

ACCEPTED = b"accepted:"
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


def spend_key(campaign_id: str) -> bytes:
    return SPEND + campaign_id.encode()
