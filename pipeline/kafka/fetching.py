"""How long a consumer lets the broker hold its fetches: short while caught up, long while behind.

Caught up, a fetch finds nothing new and the broker holds it until its max wait: a short wait keeps
the latency of a quiet partition low. Behind, a long wait costs nothing on Apache Kafka, which answers
a fetch as soon as it has data, and it is what keeps the embedded broker serving: the time it takes to
find a fetch's first record batch grows with the batches a partition holds, and it answers with what
it found when the wait is over. Past about 50 000 batches in a partition a 50 ms fetch came back with
one batch, fewer records a second than arrived, and the partition fell behind for good
(docs/decisions/0004-fetch-wait-follows-the-lag.md).

aiokafka reads the wait from its fetcher for every fetch request it builds and has no public way to
change it after start; ``FetchWait`` sets that attribute and checks, when made, that it is there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

#: Caught up: a fetch that finds nothing is answered after this at the latest.
CAUGHT_UP_WAIT_MS = 50
#: Behind: the broker may take this long to fill a fetch.
BEHIND_WAIT_MS = 500
#: A partition this many records behind its high watermark after a fetch is behind.
BEHIND_RECORDS = 1000


def wait_for(lags: Sequence[int], current_ms: int, caught_up_ms: int = CAUGHT_UP_WAIT_MS,
             behind_ms: int = BEHIND_WAIT_MS, behind_records: int = BEHIND_RECORDS) -> int:
    """The max wait for the next fetches, given how far behind each partition a fetch brought records of is."""
    if not lags:
        return current_ms  # a fetch with no records says nothing new about the lag
    return behind_ms if max(lags) > behind_records else caught_up_ms


class FetchWait:
    """Sets a started consumer's fetch max wait after each fetch from how far behind it is."""

    def __init__(self, consumer: AIOKafkaConsumer, caught_up_ms: int = CAUGHT_UP_WAIT_MS,
                 behind_ms: int = BEHIND_WAIT_MS, behind_records: int = BEHIND_RECORDS) -> None:
        fetcher = getattr(consumer, "_fetcher", None)
        if fetcher is None or not isinstance(getattr(fetcher, "_fetch_max_wait_ms", None), int):
            raise RuntimeError("this aiokafka has no fetcher with _fetch_max_wait_ms: start the consumer first, "
                               "or check pipeline/kafka/fetching.py against the aiokafka version")
        self.consumer, self._fetcher = consumer, fetcher
        self.caught_up_ms, self.behind_ms, self.behind_records = caught_up_ms, behind_ms, behind_records
        self._fetcher._fetch_max_wait_ms = caught_up_ms

    @property
    def wait_ms(self) -> int:
        return int(self._fetcher._fetch_max_wait_ms)

    def update(self, fetched: Mapping[TopicPartition, Sequence[Any]]) -> int:
        """After a fetch: the wait of the fetches to come, set on the consumer."""
        lags = []
        for tp, records in fetched.items():
            highwater = self.consumer.highwater(tp) if records else None
            if highwater is not None:
                lags.append(highwater - (records[-1].offset + 1))
        wait = wait_for(lags, self.wait_ms, self.caught_up_ms, self.behind_ms, self.behind_records)
        self._fetcher._fetch_max_wait_ms = wait
        return wait
