"""The back-office commands: core data by hand (show, set, delete), and the dispatch of every client command.

They read what the workers keep in Kafka, never a worker itself: an entity's stored form from its global
table's changelog. A write goes where back-office systems write, then the command waits for the worker's
notification, so exit status 0 means the change took effect. The subscriber commands are in
``pipeline.cli.subscribers``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from kafka.errors import KafkaError

from config.settings import Settings
from pipeline.cli import subscribers
from pipeline.cli.records import end_offsets, first, follow, latest, read_topic, send
from pipeline.cli.refusal import refuse
from pipeline.domain.coredata import check_data, live_data
from pipeline.domain.errors import SchemaError

Data = dict[str, Any]

APPLY_TIMEOUT_S = 15.0


def parse_value(text: str) -> Any:
    """JSON when it parses (``4.5``, ``null``, ``true``, ``["pub-a"]``), else the text itself (``Spring Sale``)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def parse_fields(entity: str, items: Sequence[str]) -> Data:
    """``["price=4.5", "name=Spring Sale"]`` -> ``{"price": 4.5, "name": "Spring Sale"}``."""
    fields: Data = {}
    for item in items:
        name, equals, text = item.partition("=")
        if not equals or not name:
            raise SchemaError(f"{entity}: expected field=value, got {item!r}")
        if name in fields:
            raise SchemaError(f"{entity}: {name} is given twice")
        fields[name] = parse_value(text)
    return fields


def merge(entity: str, stored: Data | None, fields: Data) -> Data:
    """The checked data after setting ``fields``; a missing or deleted entity starts empty, so needs every field."""
    return check_data(entity, {**(live_data(stored) or {}), **fields})


def next_version(stored: Data | None) -> int:
    return 1 if stored is None else stored["version"] + 1


def is_notification(value: bytes | None, entity: str, id_: str, version: int) -> bool:
    try:
        note = orjson.loads(value or b"")
        return (note["entity"], note["id"], note["version"]) == (entity, id_, version)
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return False


def table_changelog(settings: Settings, entity: str) -> str:
    """The changelog of the worker's global table for ``entity`` (tables.coredata)."""
    return f"{settings.app_id}-coredata-{entity}-changelog"


def stored(settings: Settings, entity: str, id_: str) -> Data | None:
    """The worker's stored form of an entity: the latest record for its key on the table's changelog."""
    records = read_topic(settings, table_changelog(settings, entity))
    value = latest((r.key, r.value) for r in records).get(orjson.dumps(id_))
    return None if value is None else orjson.loads(value)


def coredata_show(settings: Settings, args: argparse.Namespace) -> int:
    current = stored(settings, args.entity, args.id)
    if current is None:
        return refuse(f"{args.entity} {args.id} does not exist")
    if current["deleted"]:
        print(f"{args.entity} {args.id} is deleted (v{current['version']})", file=sys.stderr)
    print(orjson.dumps(current, option=orjson.OPT_INDENT_2).decode())
    return 0


def coredata_set(settings: Settings, args: argparse.Namespace) -> int:
    fields = parse_fields(args.entity, args.fields)
    current = stored(settings, args.entity, args.id)
    data = merge(args.entity, current, fields)
    return _apply(settings, args.entity, args.id, "upsert", next_version(current), data)


def coredata_delete(settings: Settings, args: argparse.Namespace) -> int:
    current = stored(settings, args.entity, args.id)
    if current is None:
        return refuse(f"{args.entity} {args.id} does not exist")
    if current["deleted"]:
        return refuse(f"{args.entity} {args.id} is already deleted (v{current['version']})")
    return _apply(settings, args.entity, args.id, "delete", next_version(current), None)


def _apply(settings: Settings, entity: str, id_: str, op: str, version: int, data: Data | None) -> int:
    """Write an update, wait for its notification and print it."""
    changes = settings.topic_coredata_changes
    mark = end_offsets(settings, changes)
    update = {"entity": entity, "op": op, "id": id_, "version": version, "data": data}
    send(settings, settings.topic_coredata_updates, f"{entity}:{id_}".encode(), orjson.dumps(update))
    deadline = time.monotonic() + APPLY_TIMEOUT_S
    note = first(follow(settings, changes, mark, APPLY_TIMEOUT_S),
                 lambda r: is_notification(r.value, entity, id_, version))
    if note is None:
        return refuse(f"{entity}:{id_} v{version} was written to {settings.topic_coredata_updates}, but not "
                      f"applied within {APPLY_TIMEOUT_S:.0f} s; is a worker running?")
    # Faust sends table changelog records through a buffer, so the table's record can reach the broker
    # after the notification: wait for it as well, so that the next command reads this version.
    key = orjson.dumps(id_)
    first(follow(settings, table_changelog(settings, entity), {}, max(0.0, deadline - time.monotonic())),
          lambda r: r.key == key and r.value is not None and orjson.loads(r.value)["version"] >= version)
    print(subscribers.describe_value(note.value))
    return 0


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "subscribe": subscribers.subscribe,
    "unsubscribe": subscribers.unsubscribe,
    "subscriptions": subscribers.list_subscriptions,
    "watch-changes": subscribers.watch_changes,
    "coredata show": coredata_show,
    "coredata set": coredata_set,
    "coredata delete": coredata_delete,
}


def run(command: str, settings: Settings, args: argparse.Namespace) -> int:
    try:
        return COMMANDS[command](settings, args)
    except KafkaError as exc:
        return refuse(f"Kafka at {settings.kafka_bootstrap_servers}: {exc}")
