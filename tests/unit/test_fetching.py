"""The tracking consumer's fetch wait: short while caught up, long while behind (pipeline/kafka/fetching.py).

On a real consumer and broker: tests/integration/test_fetching_consumer.py.
"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from pipeline.kafka.fetching import BEHIND_RECORDS, BEHIND_WAIT_MS, CAUGHT_UP_WAIT_MS, FetchWait, wait_for


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


def test_an_unstarted_consumer_is_refused() -> None:
    async def make() -> None:
        FetchWait(AIOKafkaConsumer(bootstrap_servers="127.0.0.1:9"))

    with pytest.raises(RuntimeError, match="_fetch_max_wait_ms"):
        asyncio.run(make())
