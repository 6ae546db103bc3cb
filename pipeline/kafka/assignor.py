"""The tracking consumer group's partition assignor: sticky, and telling every member who owns what.

Each member joins with its web URL and the partitions it holds. The leader keeps partitions where
they are as far as balance allows (a moved partition costs its new owner a state restore), spreads
the rest over the least loaded members, and hands every member the whole map of partition -> URL,
so any worker's web page can ask the owner of a campaign's partition for its spend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import orjson
from aiokafka.cluster import ClusterMetadata
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata


def balance(partitions: int, members: Mapping[str, Iterable[int]]) -> dict[str, list[int]]:
    """Partitions 0..n-1 over ``members`` (id -> partitions it holds now): loads differ by at most one,
    and a member keeps what it holds as far as that allows."""
    if not members:
        return {}
    base, extra = divmod(partitions, len(members))
    owned: dict[str, list[int]] = {m: [] for m in sorted(members)}
    held = {m: [p for p in sorted(set(members[m])) if 0 <= p < partitions] for m in owned}
    taken: set[int] = set()

    def keep(member: str, up_to: int) -> None:
        for p in held[member]:
            if len(owned[member]) >= up_to:
                break
            if p not in taken:
                owned[member].append(p)
                taken.add(p)

    for member in owned:
        keep(member, base)
    for member in owned:  # the members allowed one more keep one more of theirs, while allowed
        if extra and any(p not in taken for p in held[member]):
            keep(member, base + 1)
            extra -= 1
    for p in range(partitions):
        if p not in taken:
            below = [m for m in owned if len(owned[m]) < base] or [m for m in owned if len(owned[m]) == base]
            owned[below[0]].append(p)
    return {m: sorted(ps) for m, ps in owned.items()}


class Assignor(AbstractPartitionAssignor):
    name = "adtrack-sticky"
    version = 0

    def __init__(self, url: str) -> None:
        self.url = url
        self.owned: list[int] = []
        #: partition -> web URL of its owner, as of the last assignment
        self.owners: dict[int, str] = {}

    def metadata(self, topics: Iterable[str]) -> ConsumerProtocolMemberMetadata:
        user_data = orjson.dumps({"url": self.url, "owned": self.owned})
        return ConsumerProtocolMemberMetadata(self.version, sorted(topics), user_data)

    def assign(self, cluster: ClusterMetadata,
               members: Mapping[str, ConsumerProtocolMemberMetadata]) -> dict[str, ConsumerProtocolMemberAssignment]:
        info = {member: orjson.loads(meta.user_data or b"{}") for member, meta in members.items()}
        topics = sorted({t for meta in members.values() for t in meta.subscription})
        plan: dict[str, dict[str, list[int]]] = {member: {} for member in members}
        owners: dict[str, dict[int, str]] = {}
        for topic in topics:
            count = len(cluster.partitions_for_topic(topic) or ())
            subscribed = {m: info[m].get("owned", []) for m, meta in members.items() if topic in meta.subscription}
            for member, partitions in balance(count, subscribed).items():
                plan[member][topic] = partitions
                for p in partitions:
                    owners.setdefault(topic, {})[p] = info[member].get("url", "")
        user_data = orjson.dumps({topic: {str(p): url for p, url in m.items()} for topic, m in owners.items()})
        return {
            member: ConsumerProtocolMemberAssignment(self.version, sorted(by_topic.items()), user_data)
            for member, by_topic in plan.items()
        }

    def on_assignment(self, assignment: ConsumerProtocolMemberAssignment) -> None:
        self.owned = sorted(p for _, partitions in assignment.assignment for p in partitions)
        maps = orjson.loads(assignment.user_data or b"{}")
        self.owners = {int(p): url for by_partition in maps.values() for p, url in by_partition.items()}
