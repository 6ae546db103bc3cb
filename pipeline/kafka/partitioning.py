"""Which partition a campaign's events belong to."""

from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import murmur2

#: Hashing is pure Python (about 4 µs a short id), so recent ids are remembered; bounded in count and
#: in id length, so made-up campaign ids cannot grow it without end.
CACHED_IDS = 16384
CACHED_ID_CHARS = 256


def home_partition(campaign_id: str, partitions: int) -> int:
    """The partition all of a campaign's events are processed on: Kafka's default key hashing (murmur2)."""
    if len(campaign_id) > CACHED_ID_CHARS:
        return _hash(campaign_id, partitions)
    return _cached(campaign_id, partitions)


def _hash(campaign_id: str, partitions: int) -> int:
    return (murmur2(campaign_id.encode()) & 0x7FFFFFFF) % partitions


_cached = lru_cache(maxsize=CACHED_IDS)(_hash)
