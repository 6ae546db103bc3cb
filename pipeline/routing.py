"""Which partition a campaign's events are processed on."""

from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import murmur2


# Bounded: campaign ids come from events, so any producer can invent new ones without end.
@lru_cache(maxsize=4096)
def home_partition(campaign_id: str, partitions: int) -> int:
    """The partition all of a campaign's events are processed on (Kafka's default key hashing)."""
    return (murmur2(campaign_id.encode()) & 0x7FFFFFFF) % partitions
