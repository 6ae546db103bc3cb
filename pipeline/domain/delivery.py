"""What a subscription was last delivered for one key, as held in the ``subscription-deliveries`` table.

Stored as ``{"version", "source", "offset"}``. Changelogs written before carry ``{"v", "src"}`` with
``src`` as ``["c", offset]`` (a change notification) or ``["s", offset]`` (a snapshot); ``from_stored``
reads both, so a worker restores such a changelog unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any

CHANGE = "change"  # the notification at ``offset`` on coredata.changes
SNAPSHOT = "snapshot"  # the subscription at ``offset`` on coredata.subscriptions, whose snapshot it was part of
_FORMER_SOURCES = {"c": CHANGE, "s": SNAPSHOT}


@dataclasses.dataclass(frozen=True, slots=True)
class Delivery:
    version: int
    source: str  # CHANGE or SNAPSHOT: what caused the delivery
    offset: int  # the offset of the record that caused it

    def stored(self) -> dict[str, Any]:
        return {"version": self.version, "source": self.source, "offset": self.offset}

    @classmethod
    def from_stored(cls, value: dict[str, Any]) -> Delivery:
        if "src" in value:  # the one-letter form of earlier changelogs
            kind, offset = value["src"]
            return cls(value["v"], _FORMER_SOURCES[kind], offset)
        return cls(value["version"], value["source"], value["offset"])

    def same_cause(self, other: Delivery) -> bool:
        return (self.source, self.offset) == (other.source, other.offset)


def should_deliver(last: Delivery | None, delivery: Delivery) -> bool:
    """Deliver unless this subscription already got this key at this version or later.

    ``last`` is what was last delivered for the key. The very same cause seen again (a replay after
    a crash) is delivered again, since its first delivery may not have been flushed.
    """
    return last is None or delivery.version > last.version or last.same_cause(delivery)
