"""The tracking consumer's fetch wait: short while caught up, long while behind (pipeline/kafka/fetching.py).

On a real consumer and broker: tests/integration/test_fetching_consumer.py.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from pipeline.kafka.fetching import BEHIND_RECORDS, BEHIND_WAIT_MS, CAUGHT_UP_WAIT_MS, FetchWait, stalled, wait_for


def test_caught_up_partitions_get_the_short_wait() -> None:
    assert wait_for([0, 0, BEHIND_RECORDS], current_ms=BEHIND_WAIT_MS) == CAUGHT_UP_WAIT_MS


def test_one_partition_behind_gets_the_long_wait() -> None:
    assert wait_for([0, BEHIND_RECORDS + 1], current_ms=CAUGHT_UP_WAIT_MS) == BEHIND_WAIT_MS


def test_a_fetch_without_records_keeps_the_wait() -> None:
    assert wait_for([], current_ms=BEHIND_WAIT_MS) == BEHIND_WAIT_MS
    assert wait_for([], current_ms=CAUGHT_UP_WAIT_MS) == CAUGHT_UP_WAIT_MS


def test_the_thresholds_are_the_callers() -> None:
    assert wait_for([11], 7, caught_up_ms=7, behind_ms=70, behind_records=10) == 70
    assert wait_for([10], 70, caught_up_ms=7, behind_ms=70, behind_records=10) == 7


def test_a_partition_a_little_behind_keeps_the_short_wait() -> None:
    # Live traffic leaves a few records after most fetches: a long wait there only adds latency.
    assert BEHIND_RECORDS > 0
    assert wait_for([BEHIND_RECORDS], current_ms=CAUGHT_UP_WAIT_MS) == CAUGHT_UP_WAIT_MS


def test_a_stalled_partition_gets_the_long_wait_however_little_it_lags() -> None:
    assert wait_for([0, 1], current_ms=CAUGHT_UP_WAIT_MS, stalled=True) == BEHIND_WAIT_MS
    assert wait_for([], current_ms=CAUGHT_UP_WAIT_MS, stalled=True) == BEHIND_WAIT_MS


def test_a_partition_with_records_left_and_none_fetched_is_stalled() -> None:
    assert stalled({"a": 0, "b": 3}, {"a": [1, 2]}) == {"b"}
    assert stalled({"a": 0, "b": 3}, {"a": [1], "b": []}) == {"b"}
    assert stalled({"a": 2, "b": 1}, {}) == {"a", "b"}  # a fetch that came back with nothing at all


def test_partitions_that_got_records_or_have_none_left_are_not_stalled() -> None:
    assert stalled({"a": 0, "b": 3}, {"b": [1]}) == set()  # b moved
    assert stalled({"a": 0, "b": 0}, {}) == set()  # nothing to read
    assert stalled({}, {}) == set()


def test_an_unstarted_consumer_is_refused() -> None:
    async def make() -> None:
        FetchWait(AIOKafkaConsumer(bootstrap_servers="127.0.0.1:9"))

    with pytest.raises(RuntimeError, match="_fetch_max_wait_ms"):
        asyncio.run(make())
