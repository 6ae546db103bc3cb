"""Core data in global tables: every worker holds all of it and reads it locally.

One table per entity, keyed by id, holding the stored form of ``pipeline.domain.coredata``
(version, deleted, data, plus what is needed to re-publish its notification after a crash).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import faust
from aiokafka import TopicPartition

from config.topics import durability
from pipeline.app import app, settings
from pipeline.domain.coredata import ENTITIES, live_data
from pipeline.kafka import clients, offsets

#: What ``stored`` found, per entity: the tracking path asks for the same few ids batch after batch, and
#: a table read is a RocksDB get and a JSON decode. Only ids that exist are kept (an event may name any
#: id), so this holds at most what the tables hold. Forgotten when this worker writes the id, and all of
#: an entity's whenever its table applies changelog records: core data changes rarely.
_found: dict[str, dict[str, dict[str, Any]]] = {entity: {} for entity in ENTITIES}


class CoreDataTable(faust.GlobalTable):
    """A global table of one entity that forgets what ``stored`` found once it applied changelog records."""

    def __init__(self, *args: Any, entity: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entity = entity

    def apply_changelog_batch(self, batch: Any) -> None:
        super().apply_changelog_batch(batch)
        _found[self.entity].clear()


# What app.GlobalTable does (standby changes applied as they come, one at a time), with this class.
TABLES = {
    entity: app.tables.add(CoreDataTable(
        app,
        name=f"coredata-{entity}",
        entity=entity,
        beacon=app.tables.beacon,
        is_global=True,
        standby_buffer_size=1,
        partitions=1,
        # Without it, changelog partitions are not resumed after recovery (faust-streaming #283).
        recovery_buffer_size=1,
        extra_topic_configs=durability(settings),
        key_type=str,
        help=f"Core data: {entity} by id.",
    ))
    for entity in ENTITIES
}


# The newest version of each entity this worker wrote. A GlobalTable also reads its own changelog
# back, one record at a time, and while that lags it overwrites a newer local write with an older
# version, even after it had shown the newer one (seen after back-to-back updates of one entity).
# Reads take the newer of the two. One entry per entity written here: core data is small.
_written: dict[tuple[str, str], dict[str, Any]] = {}


def stored(entity: str, id_: str) -> dict[str, Any] | None:
    """The newest stored form of an entity this worker knows of, or None."""
    found = _found[entity].get(id_)
    if found is not None:
        return found
    value = TABLES[entity].get(id_)
    mine = _written.get((entity, id_))
    if mine is not None and (value is None or value["version"] < mine["version"]):
        value = mine
    if value is not None:
        _found[entity][id_] = value
    return value


def store(entity: str, id_: str, value: dict[str, Any]) -> None:
    """Write an entity's new stored form (only the core-data agent does, while iterating its stream)."""
    TABLES[entity][id_] = value
    _written[(entity, id_)] = value
    _found[entity].pop(id_, None)


def items(entity: str) -> list[tuple[str, dict[str, Any]]]:
    """Every stored entity of a kind, newest versions."""
    return [(id_, stored(entity, id_) or value) for id_, value in list(TABLES[entity].items())]


def lookup(entity: str, id_: str) -> dict[str, Any] | None:
    """The live data of an entity, or None if it does not exist or was deleted."""
    return live_data(stored(entity, id_))


async def catch_up(timeout_s: float) -> bool:
    """Wait until every core-data update published so far is applied and held by this worker's tables.

    Tracking waits for this once at start-up, so that a backlog of events is not validated against
    core data that was published before those events but not applied yet (a worker starting after an
    outage finds both backlogs). Returns False if it gave up after ``timeout_s``.
    """
    updates = TopicPartition(settings.topic_coredata_updates, 0)
    deadline = time.monotonic() + timeout_s
    admin = clients.admin(settings)
    await admin.start()
    try:
        end = (await end_offsets([updates]))[updates]
        while end > 0:
            committed = (await admin.list_consumer_group_offsets(settings.app_id, partitions=[updates])).get(updates)
            if committed is not None and committed.offset >= end:
                break
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    changelogs = {TopicPartition(t.changelog_topic.get_topic_name(), 0): t for t in TABLES.values()}
    ends = await end_offsets(list(changelogs))
    for tp, table in changelogs.items():
        while ends[tp] > 0 and _applied(table, tp) < ends[tp] - 1:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
    return True


def _applied(table: Any, tp: TopicPartition) -> int:
    offset = table.data.persisted_offset(tp)
    return -1 if offset is None else offset


async def end_offsets(tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    return await offsets.end_offsets(settings, tps)
