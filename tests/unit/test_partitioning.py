"""A campaign's home partition: Kafka's default key hashing, with a bounded memo."""

from __future__ import annotations

from aiokafka.partitioner import murmur2

from pipeline.kafka.partitioning import home_partition


def test_the_home_partition_is_what_kafkas_default_partitioner_picks_for_the_key() -> None:
    for cid in ("cmp-spring-sale", "cmp-1", "é", "x" * 300):
        assert home_partition(cid, 4) == (murmur2(cid.encode()) & 0x7FFFFFFF) % 4
    assert {home_partition(f"cmp-{n}", 4) for n in range(100)} == {0, 1, 2, 3}


def test_unique_campaign_ids_without_end_keep_the_memo_at_its_bound() -> None:
    home_partition.cache_clear()
    for n in range(40_000):
        home_partition(f"cmp-invented-{n}", 4)
    info = home_partition.cache_info()
    assert info.currsize == info.maxsize == 16384
