"""Restore time: a fresh worker (empty data dir) rebuilding the tracking state from its changelog.

The changelog ``<app_id>-tracking-state`` is preloaded with rows shaped like the tracking path's state
layer writes them (accepted event_ids and campaign spend, partitioned like ``tracking.raw``). The
worker reports each restored partition in one log line; the bench also times, from the worker's start,
its "ready" line and the outcomes of a few events sent then ("serving"). A worker that never
reports a restore (one without that state layer) gets the figure "unavailable", not a failure.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from aiokafka.admin import NewTopic

from config.settings import Settings
from pipeline.kafka import clients
from pipeline.sim.bench import kafka
from pipeline.sim.bench.stage import WARM_UP_EVENTS, Stage, probe, wait_ready
from pipeline.state.records import AcceptedBatch, AcceptedEvent, Spend, spend_key

RESTORED = re.compile(rb"restored tracking state of (?P<topic>\S+)\[(?P<partition>\d+)\]: "
                      rb"(?P<rows>\d+) rows in (?P<seconds>[0-9.]+) s")
#: One line per assignment: the partitions restore together, so this is the wall time of the whole restore.
RESTORED_ALL = re.compile(rb"restored tracking state: (?P<rows>\d+) rows of (?P<partitions>\d+) partitions? "
                          rb"in (?P<seconds>[0-9.]+) s")
SPEND_EVERY = 1000  # one campaign's spend row among this many rows
BATCH_EVENTS = 2000  # accepted events per record, as many as the tracking path's largest batch
GRACE_S = 5.0  # how long to wait for restore lines once the probes have their outcomes
DAY_MS = 86_400_000


def state_topic(settings: Settings) -> str:
    return f"{settings.app_id}-tracking-state"


def rows(count: int, partitions: int, seed: int) -> Iterator[kafka.Out]:
    """Records holding ``count`` state rows over ``partitions``, as the tracking path writes them.

    Accepted events come in batches of ``BATCH_EVENTS`` per record; spend rows are for campaigns no
    event names.
    """
    rng, expires = random.Random(seed), int(time.time() * 1000) + DAY_MS
    batches: dict[int, tuple[list[str], list[AcceptedEvent]]] = {p: ([], []) for p in range(partitions)}
    for n in range(count):
        partition, offset = n % partitions, n // partitions
        if n % SPEND_EVERY == SPEND_EVERY - 1:
            spend = Spend(rng.randrange(1 << 30), offset)
            yield partition, spend_key(f"cmp-restore-{n:08d}"), spend.encode(), []
            continue
        event_ids, entries = batches[partition]
        event_ids.append(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        entries.append(AcceptedEvent(partition, offset, rng.randrange(1 << 30) if rng.random() < 0.8 else None,
                                     expires))
        if len(entries) == BATCH_EVENTS:
            yield _accepted(partition, event_ids, entries)
            batches[partition] = ([], [])
    for partition, (event_ids, entries) in batches.items():
        if entries:
            yield _accepted(partition, event_ids, entries)


def _accepted(partition: int, event_ids: list[str], entries: list[AcceptedEvent]) -> kafka.Out:
    batch = AcceptedBatch(event_ids, entries)
    return partition, batch.key, batch.encode(), []


async def _create_state_topic(settings: Settings) -> None:
    admin = clients.admin(settings)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(state_topic(settings), settings.partitions, settings.replication_factor,
                                            topic_configs={"cleanup.policy": "compact"})])
    finally:
        await admin.close()


def parse(log: bytes) -> dict[int, dict[str, float]]:
    """The last restore line of each partition: {partition: {"rows": .., "seconds": ..}}."""
    found: dict[int, dict[str, float]] = {}
    for m in RESTORED.finditer(log):
        found[int(m["partition"])] = {"rows": int(m["rows"]), "seconds": float(m["seconds"])}
    return found


def restore(here: Stage, count: int, seed: int) -> dict[str, Any]:
    settings = here.settings
    asyncio.run(_create_state_topic(settings))
    written = asyncio.run(kafka.write(settings, state_topic(settings), rows(count, settings.partitions, seed)))
    started = time.monotonic()
    worker = here.worker()
    ready_s = wait_ready(worker, started)
    probe(here, WARM_UP_EVENTS, timeout_s=120 + count / 2000)
    serving_s = time.monotonic() - started
    deadline = time.monotonic() + GRACE_S
    while len(parse(worker.log())) < settings.partitions and time.monotonic() < deadline:
        time.sleep(0.2)
    log = worker.log()
    restored = parse(log)
    available = bool(restored)
    total = sum(int(p["rows"]) for p in restored.values())
    # The wall time of the restore when the worker reports it, else its slowest partition's.
    walls = [float(m["seconds"]) for m in RESTORED_ALL.finditer(log)]
    seconds = walls[-1] if walls else max((p["seconds"] for p in restored.values()), default=0.0)
    return {
        "rows": count, "records": written, "available": available, "restored_rows": total if available else None,
        "seconds": seconds if available else None,
        "rows_per_s": total / seconds if available and seconds else None,
        "partitions": {str(p): v for p, v in sorted(restored.items())},
        "ready_s": ready_s, "serving_s": serving_s,
    }

