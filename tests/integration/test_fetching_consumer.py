"""The tracking consumer's fetch wait on a real consumer and the embedded broker (pipeline/kafka/fetching.py)."""

from __future__ import annotations

import asyncio

import pytest
from pipeline.kafka.fetching import BEHIND_RECORDS, BEHIND_WAIT_MS, CAUGHT_UP_WAIT_MS, FetchWait
from tests import partitions

pytestmark = pytest.mark.integration

#: Records on the partition: enough for several fetches of 16 KiB, and far over the threshold.
BACKLOG = 3 * BEHIND_RECORDS


def test_a_consumer_behind_fetches_with_the_long_wait_and_back(broker, settings) -> None:
    """On a real consumer: a backlog switches the wait the fetch requests carry; once read, it is short again."""

    async def scenario() -> list[int]:
        topic = "fetching.backlog"
        await partitions.fill(settings, topic, (b"x" * 100 for _ in range(BACKLOG)))
        async with partitions.reading(settings, topic, fetch_bytes=16_384) as (consumer, tp):
            wait = FetchWait(consumer)
            seen, read = [wait.wait_ms], 0
            while read < BACKLOG:
                fetched = await asyncio.wait_for(consumer.getmany(tp, timeout_ms=2000, max_records=200), 30)
                read += len(fetched.get(tp, []))
                seen.append(wait.update(fetched))
            return seen

    seen = asyncio.run(scenario())
    assert seen[0] == CAUGHT_UP_WAIT_MS
    assert BEHIND_WAIT_MS in seen, seen
    assert seen[-1] == CAUGHT_UP_WAIT_MS, seen


def test_a_partition_left_behind_by_two_fetches_in_a_row_gets_the_long_wait(broker, settings) -> None:
    """A few records left, far under the threshold: one fetch without them is live traffic, two are a stall."""

    async def scenario() -> list[int]:
        topic = "fetching.stall"
        await partitions.fill(settings, topic, (b"x" * 100 for _ in range(300)))
        async with partitions.reading(settings, topic, fetch_bytes=16_384) as (consumer, tp):
            wait = FetchWait(consumer)
            fetched = await asyncio.wait_for(consumer.getmany(tp, timeout_ms=2000), 30)  # all that one fetch brought
            assert 0 < len(fetched[tp]) < 300
            seen = [wait.update(fetched)]
            assert 0 < wait.asked_for()[tp] <= BEHIND_RECORDS
            seen.append(wait.update({}))  # once without its records: maybe only traffic
            seen.append(wait.update({}))  # twice: stalled
            fetched = await asyncio.wait_for(consumer.getmany(tp, timeout_ms=2000), 30)
            seen.append(wait.update(fetched))  # moving again
            return seen

    assert asyncio.run(scenario()) == [CAUGHT_UP_WAIT_MS, CAUGHT_UP_WAIT_MS, BEHIND_WAIT_MS, CAUGHT_UP_WAIT_MS]


def test_partitions_whose_records_wait_in_the_consumer_do_not_set_the_wait(broker, settings) -> None:
    """Far behind, but with fetched records not handed out yet: the next fetch request does not ask for it."""

    async def scenario() -> tuple[int, int, dict]:
        topic = "fetching.buffered"
        await partitions.fill(settings, topic, (b"x" * 100 for _ in range(BACKLOG)))
        async with partitions.reading(settings, topic, fetch_bytes=65_536) as (consumer, tp):
            wait = FetchWait(consumer)
            fetched = await asyncio.wait_for(consumer.getmany(tp, timeout_ms=2000, max_records=10), 30)
            assert len(fetched[tp]) == 10 and wait.lags()[tp] > BEHIND_RECORDS
            buffered = (wait.update(fetched), wait.asked_for())
            while not wait.asked_for():  # hand out what the fetch brought: now it is asked for again
                fetched = await asyncio.wait_for(consumer.getmany(tp, timeout_ms=2000), 30)
            return buffered[0], wait.update(fetched), buffered[1]

    before, after, asked = asyncio.run(scenario())
    assert (before, asked) == (CAUGHT_UP_WAIT_MS, {})
    assert after == BEHIND_WAIT_MS
