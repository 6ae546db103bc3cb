"""The tracking state this worker holds, and who holds the rest: what the web pages read.

The tracking service (``agents/tracking.py``) fills it as partitions are assigned and revoked.
"""

from __future__ import annotations

from pipeline.kafka.partitioning import home_partition
from pipeline.state.partition import PartitionState
from pipeline.state.records import Spend


class Held:
    def __init__(self) -> None:
        self.states: dict[int, PartitionState] = {}
        #: partition -> web URL of the worker holding it, as of the last assignment
        self.owners: dict[int, str] = {}
        #: partitions of the raw topic (0 before the tracking consumer started)
        self.partition_count = 0

    def partitions(self) -> list[int]:
        return sorted(self.states)

    def partition_of(self, campaign_id: str) -> int | None:
        return home_partition(campaign_id, self.partition_count) if self.partition_count else None

    def owner(self, campaign_id: str) -> str | None:
        partition = self.partition_of(campaign_id)
        return None if partition is None else self.owners.get(partition)

    def spend(self, campaign_id: str) -> Spend | None:
        """The campaign's spend if this worker holds its partition, else None."""
        partition = self.partition_of(campaign_id)
        state = None if partition is None else self.states.get(partition)
        return None if state is None else state.spend(campaign_id)


#: This worker's.
held = Held()
