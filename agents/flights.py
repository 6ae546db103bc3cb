"""A tracking batch on its way: processed, its records handed to the outbox, not yet acknowledged.

The tracking service keeps its flights oldest first and lands them strictly in order: once a
flight's records are acknowledged, its state changes are written to the local store and its input
offsets become committable (``agents.tracking``).
"""

from __future__ import annotations

import dataclasses
import time

from aiokafka import TopicPartition

from pipeline.kafka.outbox import Delivery
from pipeline.state import batch
from pipeline.state.partition import Sealed


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclasses.dataclass
class Flight:
    """A processed batch whose records are on their way: what to do once they are acknowledged."""

    now: int = dataclasses.field(default_factory=now_ms)  # the batch's clock: every rule saw this time
    sealed: dict[int, Sealed] = dataclasses.field(default_factory=dict)  # state changes per partition
    offsets: dict[TopicPartition, int] = dataclasses.field(default_factory=dict)  # input offsets to commit
    result: batch.Result = dataclasses.field(default_factory=batch.Result)
    fetched_at: float = dataclasses.field(default_factory=time.monotonic)  # made right after the fetch
    rerouted: Delivery | None = None  # its re-routes, handed to the outbox first
    delivery: Delivery | None = None  # its other records, state changes and dead letters, with the outbox

    def acknowledged(self) -> bool:
        return (self.delivery is not None and self.delivery.acknowledged()
                and (self.rerouted is None or self.rerouted.acknowledged()))
