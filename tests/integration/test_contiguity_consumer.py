"""A fetch past a hole, on a real consumer and the embedded broker (pipeline/kafka/contiguity.py).

The embedded broker returns a later record batch than asked for only when busy; here the consumer is
sent past the expected offset instead, which is the same answer seen from ``Contiguity``.
"""

from __future__ import annotations

import asyncio

import pytest
from pipeline.kafka.contiguity import Contiguity
from tests import partitions

pytestmark = pytest.mark.integration


def test_records_past_a_hole_are_fetched_again_from_the_expected_offset(broker, settings) -> None:
    async def scenario() -> list[int]:
        topic = "contiguity.hole"
        await partitions.fill(settings, topic, (str(n).encode() for n in range(300)))
        async with partitions.reading(settings, topic, fetch_bytes=2048) as (consumer, tp):
            contiguity = Contiguity(consumer)
            contiguity.expect(tp, 100)
            consumer.seek(tp, 150)  # the fetch answers past the 50 records the partition goes on from
            taken: list[int] = []
            while len(taken) < 200:
                fetched = await asyncio.wait_for(consumer.getmany(tp, timeout_ms=2000, max_records=40), 30)
                taken += [int(record.value) for record in contiguity.take(tp, fetched.get(tp, []))]
            return taken

    assert asyncio.run(scenario()) == list(range(100, 300))
