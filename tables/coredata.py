"""Core data in global tables: every worker holds all of it and reads it locally.

One table per entity, keyed by id, holding the stored form of ``pipeline.coredata``
(version, deleted, data, plus what is needed to re-publish its notification after a crash).
"""

from __future__ import annotations

from typing import Any

from pipeline.app import app
from pipeline.coredata import ENTITIES, live_data

TABLES = {
    entity: app.GlobalTable(
        f"coredata-{entity}",
        partitions=1,
        # Without it, changelog partitions are not resumed after recovery (faust-streaming #283).
        recovery_buffer_size=1,
        key_type=str,
        help=f"Core data: {entity} by id.",
    )
    for entity in ENTITIES
}


def stored(entity: str, id_: str) -> dict[str, Any] | None:
    return TABLES[entity].get(id_)


def lookup(entity: str, id_: str) -> dict[str, Any] | None:
    """The live data of an entity, or None if it does not exist or was deleted."""
    return live_data(TABLES[entity].get(id_))
