"""How long a consumer lets the broker hold its fetches: short while caught up, long while behind.

Caught up, a fetch finds nothing new and the broker holds it until its max wait: a short wait keeps
the latency of a quiet partition low. Behind, a long wait costs nothing on Apache Kafka, which answers
a fetch as soon as it has data, and it is what keeps the embedded broker serving: the time it takes to
find a fetch's first record batch grows with the batches a partition holds, and it answers with what
it found when the wait is over. Past about 50 000 batches in a partition a 50 ms fetch came back with
one batch or none, and the partition fell behind for good (docs/decisions/0004-fetch-wait-follows-the-lag.md,
0008-long-fetch-wait-only-when-far-behind-or-stalled.md).
Behind means far behind (``BEHIND_RECORDS``), or stalled: records left that two fetches in a row brought
none of; only the partitions the next fetch request asks for count.

aiokafka reads the wait from its fetcher for every fetch request it builds and has no public way to
change it after start, nor a public non-blocking way to read a partition's position or to know which
partitions still have fetched records waiting; ``FetchWait`` uses the three attributes (aiokafka
0.14.0, pinned) and checks, when made, that they are there. The lag counts partitions whose fetches
come back empty too: on the embedded broker, a fetch whose wait ends before the lookup of its first
batch comes back with no record at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

K = TypeVar("K")

#: Caught up: a fetch that finds nothing is answered after this at the latest.
CAUGHT_UP_WAIT_MS = 50
#: Behind: the broker may take this long to fill a fetch.
BEHIND_WAIT_MS = 500
#: A partition more than this many records behind its high watermark after a fetch is behind: several
#: short fetches' worth at the rates adtrack sees. Under it, a short fetch brings what there is; a long
#: wait there cost latency, not only on an empty partition: the embedded broker fills a fetch until
#: about 1 MiB or the end of the wait, so with any record left counting as behind, a worker at 10 400
#: events/s fetched every 300 ms and had a p50 of 191 ms against the bare loop's 34 ms.
BEHIND_RECORDS = 2_000


def stalled(lags: Mapping[K, int], fetched: Mapping[K, Sized]) -> set[K]:
    """The partitions with records left to read that got none from a fetch.

    On the embedded broker a short fetch whose wait ends before the lookup of its first batch comes
    back empty: the lag left when traffic stops (700 records a partition in the one-hour soak) would
    never be read with the short wait.
    """
    return {partition for partition, lag in lags.items() if lag > 0 and not fetched.get(partition)}


def wait_for(lags: Sequence[int], current_ms: int, caught_up_ms: int = CAUGHT_UP_WAIT_MS,
             behind_ms: int = BEHIND_WAIT_MS, behind_records: int = BEHIND_RECORDS, stalled: bool = False) -> int:
    """The max wait for the next fetches, given how far behind each assigned partition is."""
    if stalled:
        return behind_ms
    if not lags:
        return current_ms  # no partition with a known position and high watermark yet
    return behind_ms if max(lags) > behind_records else caught_up_ms


class FetchWait:
    """Sets a started consumer's fetch max wait after each fetch from how far behind it is."""

    def __init__(self, consumer: AIOKafkaConsumer, caught_up_ms: int = CAUGHT_UP_WAIT_MS,
                 behind_ms: int = BEHIND_WAIT_MS, behind_records: int = BEHIND_RECORDS) -> None:
        fetcher = getattr(consumer, "_fetcher", None)
        if (fetcher is None or not isinstance(getattr(fetcher, "_fetch_max_wait_ms", None), int)
                or not isinstance(getattr(fetcher, "_records", None), Mapping)
                or not hasattr(getattr(consumer, "_subscription", None), "subscription")):
            raise RuntimeError("this aiokafka has no fetcher with _fetch_max_wait_ms and _records: start the "
                               "consumer first, or check pipeline/kafka/fetching.py against the aiokafka version")
        self.consumer, self._fetcher = consumer, fetcher
        self.caught_up_ms, self.behind_ms, self.behind_records = caught_up_ms, behind_ms, behind_records
        self._fetcher._fetch_max_wait_ms = caught_up_ms
        self._stalled: set[TopicPartition] = set()

    @property
    def wait_ms(self) -> int:
        return int(self._fetcher._fetch_max_wait_ms)

    def lags(self) -> dict[TopicPartition, int]:
        """Records between each assigned partition's position and the high watermark its last fetch saw.

        Read from the consumer's own partition states, so a partition whose fetches come back empty
        still shows how far behind it is.
        """
        subscription = self.consumer._subscription.subscription
        assignment = subscription.assignment if subscription is not None else None
        if assignment is None:
            return {}
        lags = {}
        for tp in assignment.tps:
            state = assignment.state_value(tp)
            if state is not None and state.has_valid_position and state.highwater is not None:
                lags[tp] = state.highwater - state.position
        return lags

    def asked_for(self) -> dict[TopicPartition, int]:
        """The lags of the partitions the next fetch request asks for.

        aiokafka leaves out of its fetch requests the partitions whose fetched records it has not handed
        out yet. Their lag says nothing about the next fetch: when one partition was read to its end and
        the others still had records waiting in the consumer, the long wait they would have set held the
        request for the first alone, and every partition's next fetch behind it, for 300 ms.
        """
        return {tp: lag for tp, lag in self.lags().items() if tp not in self._fetcher._records}

    def update(self, fetched: Mapping[TopicPartition, Sized] | None = None) -> int:
        """After a fetch (what ``getmany`` returned): the wait of the fetches to come.

        A partition counts as stalled once two fetches in a row brought none of its records left: live
        traffic leaves a partition without records in one fetch now and then, and each long wait taken
        for it held every partition's next fetch for up to 300 ms (a p99 of 136 ms at 10 400 events/s).
        """
        lags = self.asked_for()
        before, self._stalled = self._stalled, (stalled(lags, fetched) if fetched is not None else set())
        wait = wait_for(list(lags.values()), self.wait_ms, self.caught_up_ms, self.behind_ms, self.behind_records,
                        stalled=bool(before & self._stalled))
        self._fetcher._fetch_max_wait_ms = wait
        return wait
