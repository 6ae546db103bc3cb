"""The back-office and subscriber commands: core data by hand, subscriptions, and the notifications they get.

They read what the workers keep in Kafka, never a worker itself: the subscriptions by folding the
compacted ``coredata.subscriptions``, an entity's stored form from its global table's changelog,
and which subscriptions are live, with their delivery counts, from the ``subscription-delivered``
changelog. A write goes where back-office systems write, then the command waits for the worker's
confirmation, so exit status 0 means the change took effect.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from typing import Any, TypeVar

import orjson
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from config.settings import Settings
from config.topics import TopicSpec
from pipeline.domain import subscriptions as subs
from pipeline.kafka.admin import ensure_topics, ensure_topics_sync
from pipeline.cli.tables import text_table
from pipeline.domain.coredata import check_data, live_data
from pipeline.domain.errors import AdtrackError, FilterPolicyError, SchemaError
from pipeline.kafka import clients

Data = dict[str, Any]
K = TypeVar("K")
V = TypeVar("V")

SUBSCRIBE_TIMEOUT_S = 30.0
APPLY_TIMEOUT_S = 15.0
READ_TIMEOUT_S = 15.0  # to read a topic to its end
SUBSCRIPTION_COLUMNS = ("name", "topic", "snapshot", "delivered", "filter")


# --- pure helpers ---


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


def latest(records: Iterable[tuple[K, V | None]]) -> dict[K, V]:
    """What a compacted topic holds: the last value per key, and no key whose last value is a tombstone."""
    folded: dict[K, V] = {}
    for key, value in records:
        if value is None:
            folded.pop(key, None)
        else:
            folded[key] = value
    return folded


Pairs = Iterable[tuple[bytes | None, bytes | None]]  # (key, value) of the records of a topic


def current_subscriptions(records: Pairs, changes_topic: str) -> dict[str, subs.Subscription]:
    """The subscriptions a worker holds after reading ``records`` of ``coredata.subscriptions``."""

    def decoded() -> Iterator[tuple[str, subs.Subscription | None]]:
        for key, value in records:
            name = (key or b"").decode(errors="replace")
            try:
                yield name, None if value is None else subs.decode(value, changes_topic)
            except AdtrackError:
                pass  # the worker dead-letters it and keeps what it had

    return latest(decoded())


def delivered_counts(records: Pairs) -> dict[str, int]:
    """Deliveries per subscription name, from the delivered table's changelog (Faust JSON-encodes both)."""
    return latest((orjson.loads(key), None if value is None else orjson.loads(value))
                  for key, value in records if key is not None)


def subscription_rows(current: Mapping[str, subs.Subscription], delivered: Mapping[str, int]) -> list[list[str]]:
    """One row per subscription, by name; a subscription no worker has confirmed yet shows ``-`` delivered."""
    return [
        [name, sub.topic, "yes" if sub.snapshot else "no", str(delivered.get(name, "-")),
         orjson.dumps(sub.policy.policy).decode()]
        for name, sub in sorted(current.items())
    ]


def timestamp(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def describe(note: Data) -> str:
    """One readable line: ``2026-11-22T02:30:00.123Z  campaign:cmp-1  upsert v3 (was v2)  changed: price``."""
    op, previous = note["op"], note.get("previous_version")
    what = f"{op} v{note['version']}"
    if op != "snapshot" and previous is not None:
        what += f" (was v{previous})"
    elif op == "upsert":
        what += " (new)"
    if op == "upsert":
        what += f"  changed: {', '.join(note.get('changed_fields') or ['nothing'])}"
    return f"{timestamp(note['at'])}  {note['entity']}:{note['id']}  {what}"


def describe_value(value: bytes | None) -> str:
    try:
        return describe(orjson.loads(value or b""))
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return f"not a notification: {(value or b'')[:80]!r}"


def is_notification(value: bytes | None, entity: str, id_: str, version: int) -> bool:
    try:
        note = orjson.loads(value or b"")
        return (note["entity"], note["id"], note["version"]) == (entity, id_, version)
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return False


def table_changelog(settings: Settings, entity: str) -> str:
    """The changelog of the worker's global table for ``entity`` (tables.coredata)."""
    return f"{settings.app_id}-coredata-{entity}-changelog"


# --- Kafka: each read has its own consumer, with no group, that never creates a topic ---
# End offsets come from fetch responses: the embedded broker's ListOffsets can fall short of
# the last record (see pipeline/kafka/transport.py).


def _consumer(settings: Settings) -> KafkaConsumer:
    return clients.blocking_consumer(settings, enable_auto_commit=False,
                         allow_auto_create_topics=False, auto_offset_reset="earliest", fetch_max_wait_ms=100)


def _assign(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(tps)
    return tps


def _poll_until(consumer: KafkaConsumer, topic: str, done: Callable[[], bool]) -> list[ConsumerRecord]:
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + READ_TIMEOUT_S
    while not done():
        if time.monotonic() > deadline:
            raise AdtrackError(f"could not read {topic} to its end within {READ_TIMEOUT_S:.0f} s")
        for batch in consumer.poll(timeout_ms=100).values():
            records.extend(batch)
    return records


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """The offset after the last record, per partition; ``{}`` for a topic that does not exist yet."""
    with closing(_consumer(settings)) as consumer:
        if not (tps := _assign(consumer, topic)):
            return {}
        consumer.seek_to_end(*tps)
        _poll_until(consumer, topic, lambda: all(consumer.highwater(tp) is not None for tp in tps))
        return {tp.partition: consumer.highwater(tp) for tp in tps}


def read_topic(settings: Settings, topic: str) -> list[ConsumerRecord]:
    """Every record on ``topic`` now, in offset order per partition; none for a topic that does not exist."""
    with closing(_consumer(settings)) as consumer:
        if not (tps := _assign(consumer, topic)):
            return []
        consumer.seek_to_beginning(*tps)

        def caught_up() -> bool:
            return all((end := consumer.highwater(tp)) is not None and consumer.position(tp) >= end for tp in tps)

        return _poll_until(consumer, topic, caught_up)


def follow(
    settings: Settings, topic: str, start: Mapping[int, int], timeout_s: float | None = None
) -> Iterator[ConsumerRecord]:
    """The records of ``topic`` from ``start`` (a partition not named starts at its beginning) as they arrive.

    Ends after ``timeout_s`` (never when None); a topic that does not exist yet is waited for.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    with closing(_consumer(settings)) as consumer:
        while not (tps := _assign(consumer, topic)):
            if deadline is not None and time.monotonic() > deadline:
                return
            time.sleep(0.5)
        for tp in tps:
            consumer.seek(tp, start.get(tp.partition, 0))
        while deadline is None or time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                yield from batch


def _first(records: Iterable[ConsumerRecord], match: Callable[[ConsumerRecord], bool]) -> ConsumerRecord | None:
    return next((r for r in records if match(r)), None)


def send(settings: Settings, topic: str, key: bytes, value: bytes | None) -> None:
    ensure_topics_sync(settings)
    producer = clients.blocking_producer(settings, acks="all", linger_ms=0)
    try:
        producer.send(topic, key=key, value=value).get(timeout=10)
    finally:
        producer.close()


def _subscriptions(settings: Settings) -> dict[str, subs.Subscription]:
    records = read_topic(settings, settings.topic_coredata_subscriptions)
    return current_subscriptions(((r.key, r.value) for r in records), settings.topic_coredata_changes)


def stored(settings: Settings, entity: str, id_: str) -> Data | None:
    """The worker's stored form of an entity: the latest record for its key on the table's changelog."""
    records = read_topic(settings, table_changelog(settings, entity))
    value = latest((r.key, r.value) for r in records).get(orjson.dumps(id_))
    return None if value is None else orjson.loads(value)


def _refuse(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


# --- the commands ---


def subscribe(settings: Settings, args: argparse.Namespace) -> int:
    try:
        policy = orjson.loads(args.filter)
    except orjson.JSONDecodeError as exc:
        raise FilterPolicyError(f"--filter is not JSON: {exc}") from None
    sub = subs.make(args.name, policy, args.topic, args.snapshot, time.time_ns() // 1_000_000,
                    settings.topic_coredata_changes)
    asyncio.run(ensure_topics(settings, [TopicSpec(sub.topic, 1)]))
    live = subs.delivered_changelog(settings.app_id)
    mark = end_offsets(settings, live)  # the worker's confirmation is a record after this
    send(settings, settings.topic_coredata_subscriptions, sub.name.encode(), sub.to_json())
    if args.no_wait:
        print(f"subscription {sub.name} -> {sub.topic} written; not waiting for a worker to confirm it")
        return 0
    key = orjson.dumps(sub.name)
    if _first(follow(settings, live, mark, SUBSCRIBE_TIMEOUT_S), lambda r: r.key == key) is None:
        return _refuse(f"subscription {sub.name} was written to {settings.topic_coredata_subscriptions}, but no "
                       f"worker confirmed it within {SUBSCRIBE_TIMEOUT_S:.0f} s; is a worker running?")
    print(f"subscribed {sub.name} -> {sub.topic} (live)")
    return 0


def unsubscribe(settings: Settings, args: argparse.Namespace) -> int:
    if args.name not in _subscriptions(settings):
        return _refuse(f"{args.name} is not subscribed")
    send(settings, settings.topic_coredata_subscriptions, args.name.encode(), None)
    print(f"unsubscribed {args.name}")
    return 0


def list_subscriptions(settings: Settings, args: argparse.Namespace) -> int:
    current = _subscriptions(settings)
    if not current:
        print("no subscriptions")
        return 0
    records = read_topic(settings, subs.delivered_changelog(settings.app_id))
    print(text_table(SUBSCRIPTION_COLUMNS, subscription_rows(current, delivered_counts((r.key, r.value) for r in records))))
    return 0


def watch_changes(settings: Settings, args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise SchemaError(f"--limit must be 1 or more, got {args.limit}")
    try:
        topic = settings.topic_coredata_changes
        if args.subscription is not None:
            sub = _subscriptions(settings).get(args.subscription)
            if sub is None:
                return _refuse(f"no subscription named {args.subscription}")
            topic = sub.topic
        start = {} if args.from_beginning else end_offsets(settings, topic)
        for count, record in enumerate(follow(settings, topic, start), start=1):
            print(describe_value(record.value), flush=True)
            if count == args.limit:
                break
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a watch ends
    return 0


def coredata_show(settings: Settings, args: argparse.Namespace) -> int:
    current = stored(settings, args.entity, args.id)
    if current is None:
        return _refuse(f"{args.entity} {args.id} does not exist")
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
        return _refuse(f"{args.entity} {args.id} does not exist")
    if current["deleted"]:
        return _refuse(f"{args.entity} {args.id} is already deleted (v{current['version']})")
    return _apply(settings, args.entity, args.id, "delete", next_version(current), None)


def _apply(settings: Settings, entity: str, id_: str, op: str, version: int, data: Data | None) -> int:
    """Write an update, wait for its notification and print it."""
    changes = settings.topic_coredata_changes
    mark = end_offsets(settings, changes)
    update = {"entity": entity, "op": op, "id": id_, "version": version, "data": data}
    send(settings, settings.topic_coredata_updates, f"{entity}:{id_}".encode(), orjson.dumps(update))
    deadline = time.monotonic() + APPLY_TIMEOUT_S
    note = _first(follow(settings, changes, mark, APPLY_TIMEOUT_S),
                  lambda r: is_notification(r.value, entity, id_, version))
    if note is None:
        return _refuse(f"{entity}:{id_} v{version} was written to {settings.topic_coredata_updates}, but not "
                       f"applied within {APPLY_TIMEOUT_S:.0f} s; is a worker running?")
    # Faust sends table changelog records through a buffer, so the table's record can reach the broker
    # after the notification: wait for it as well, so that the next command reads this version.
    key = orjson.dumps(id_)
    _first(follow(settings, table_changelog(settings, entity), {}, max(0.0, deadline - time.monotonic())),
           lambda r: r.key == key and r.value is not None and orjson.loads(r.value)["version"] >= version)
    print(describe_value(note.value))
    return 0


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
    "subscriptions": list_subscriptions,
    "watch-changes": watch_changes,
    "coredata show": coredata_show,
    "coredata set": coredata_set,
    "coredata delete": coredata_delete,
}


def run(command: str, settings: Settings, args: argparse.Namespace) -> int:
    try:
        return COMMANDS[command](settings, args)
    except KafkaError as exc:
        return _refuse(f"Kafka at {settings.kafka_bootstrap_servers}: {exc}")
