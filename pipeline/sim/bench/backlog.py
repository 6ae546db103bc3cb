"""The preloaded backlog: the traffic mix on ``tracking.raw``, with core-data barriers among the events.

Core-data updates that change nothing but the version (a publisher published again) are put on
``coredata.updates``; a barrier naming each new version is written to every partition at evenly spaced
points of the backlog, so the worker meets barriers mid-drain and waits for its core-data tables as
it would after a real change, while every event's expected outcome stays what the oracle says.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from itertools import islice
from typing import Any

from pipeline.domain import control

from pipeline.cli.loader import publish_updates
from pipeline.sim import oracle
from pipeline.sim.bench import kafka
from pipeline.sim.bench.mix import Shares, mix
from pipeline.sim.bench.stage import Stage
from pipeline.sim.bench.verify import slim

BARRIERS = 4


@dataclasses.dataclass
class Backlog:
    run: str
    sent: dict[int, oracle.Sent]  # slim: what the verdict needs
    records: int  # events and barrier records on tracking.raw


def version_bumps(updates: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """``count`` updates of the first publisher, each one version higher and otherwise the same."""
    first = next(u for u in updates if u["entity"] == "publisher")
    top = max(u["version"] for u in updates if u["entity"] == "publisher" and u["id"] == first["id"])
    return [{**first, "version": top + n} for n in range(1, count + 1)]


def barrier(update: dict[str, Any], partition: int) -> kafka.Out:
    value = control.encode_barrier([(update["entity"], update["id"], update["version"])])
    return partition, None, value, [(control.CONTROL_HEADER, control.BARRIER)]


def preload(here: Stage, run: str, events: int, shares: Shares, seed: int, barriers: int = BARRIERS) -> Backlog:
    bumps = version_bumps(here.updates, barriers)
    publish_updates(here.settings, bumps)
    here.updates.extend(bumps)
    sent: dict[int, oracle.Sent] = {}
    traffic = mix(run, here.updates, seed, shares, here.settings)

    def records() -> Iterator[kafka.Out]:
        chunk = -(-events // (barriers + 1))
        for n in range(barriers + 1):
            for record in islice(traffic, min(chunk, events - len(sent))):
                sent[record.sent.seq] = slim(record.sent)
                yield kafka.out(record)
            if n < barriers:
                for p in range(here.settings.partitions):
                    yield barrier(bumps[n], p)

    written = asyncio.run(kafka.write(here.settings, here.settings.topic_raw, records()))
    return Backlog(run, sent, written)


def live_bumps(here: Stage, count: int) -> None:
    """Core-data updates published now: the worker applies them and writes its own barriers."""
    bumps = version_bumps(here.updates, count)
    publish_updates(here.settings, bumps)
    here.updates.extend(bumps)
