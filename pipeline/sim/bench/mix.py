"""The bench's traffic: oracle events with more duplicates and with events the worker must re-route.

On top of ``pipeline.sim.generator``'s invalid share (which repeats an accepted event now and then),
``Mix`` repeats recent events to reach its duplicate share, and sends some accepted events with no
key or a wrong key to a partition that is not their campaign's, so the worker moves them home.
A copy always travels the way its original did: both arrive home in order, so the first is the one
accepted, as the oracle expects.
"""

from __future__ import annotations

import dataclasses
import random
from collections import OrderedDict, deque
from collections.abc import Iterator
from typing import Any

from aiokafka.partitioner import murmur2

from config.settings import Settings
from pipeline.domain.rules import Reason
from pipeline.sim import oracle
from pipeline.sim.generator import INVALID
from pipeline.sim.traffic import ACCEPTED

RECENT = 256  # events a duplicate may repeat (as in pipeline.sim.traffic)


@dataclasses.dataclass(frozen=True)
class Shares:
    invalid: float = 0.05
    duplicates: float = 0.02
    rerouted: float = 0.02


@dataclasses.dataclass(frozen=True, slots=True)
class BenchRecord:
    """One record for ``tracking.raw``: where it goes, and the oracle event it carries."""

    sent: oracle.Sent
    key: bytes | None
    partition: int

    @property
    def value(self) -> bytes:
        return self.sent.item.value

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return self.sent.headers

    @property
    def rerouted(self) -> bool:
        """An accepted event sent off its campaign's partition (no key or a wrong one): it travels twice."""
        item = self.sent.item
        return item.expected == ACCEPTED and self.key != item.key


def home(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key``: a campaign's home."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def mix(run: str, updates: list[dict[str, Any]], seed: int, shares: Shares,
        settings: Settings) -> Iterator[BenchRecord]:
    """Endless numbered records over the core data ``updates``; a seed repeats them (up to timestamps)."""
    rng = random.Random(seed ^ 0x5EED)
    n = settings.partitions
    events = oracle.traffic(run, updates, seed, shares.invalid, settings)
    recent: deque[BenchRecord] = deque(maxlen=RECENT)
    routes: OrderedDict[bytes, tuple[bytes | None, int]] = OrderedDict()  # value -> (key, partition) of a re-route
    # the generator's own share of duplicates, counted in the invalid share
    extra = max(shares.duplicates - shares.invalid / len(INVALID), 0.0)
    seq = 0
    for generated in events:
        if recent and rng.random() < extra:
            original = rng.choice(recent)
            copy = dataclasses.replace(original.sent.item, expected=Reason.DUPLICATE.value)
            yield BenchRecord(oracle.Sent(run, seq, copy), original.key, original.partition)
            seq += 1
        sent = dataclasses.replace(generated, seq=seq)
        seq += 1
        item = sent.item
        if item.value in routes:  # the generator repeated a re-routed event: send it the same way
            key, partition = routes[item.value]
            yield BenchRecord(sent, key, partition)
        elif item.expected == ACCEPTED and item.key is not None and rng.random() < shares.rerouted:
            right = home(item.key, n)
            partition = (right + rng.randrange(1, n)) % n if n > 1 else right
            key = None if rng.random() < 0.5 else _wrong_key(rng, partition, n)
            routes[item.value] = (key, partition)
            if len(routes) > RECENT * 4:
                routes.popitem(last=False)
            yield _remember(recent, BenchRecord(sent, key, partition))
        else:
            record = BenchRecord(sent, item.key, home(item.key, n) if item.key is not None else rng.randrange(n))
            yield _remember(recent, record) if item.expected == ACCEPTED else record


def _remember(recent: deque[BenchRecord], record: BenchRecord) -> BenchRecord:
    recent.append(record)
    return record


def _wrong_key(rng: random.Random, partition: int, partitions: int) -> bytes:
    """A key of no campaign that hashes to ``partition``, as a misconfigured tag would send."""
    while home(key := f"cmp-wrong-{rng.getrandbits(32):08x}".encode(), partitions) != partition:
        pass
    return key

