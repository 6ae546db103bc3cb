"""Which partition a campaign's events are processed on."""

from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import murmur2


# Hashing is pure Python (about 4 µs an id), so recent ids are remembered; bounded, because campaign
# ids come from events and any producer can invent new ones without end (ids are at most 256 characters).
@lru_cache(maxsize=16384)
def home_partition(campaign_id: str, partitions: int) -> int:
    """The partition all of a campaign's events are processed on (Kafka's default key hashing, murmur2)."""
    return (murmur2(campaign_id.encode()) & 0x7FFFFFFF) % partitions
