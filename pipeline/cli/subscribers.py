"""The subscriber commands: subscribe, unsubscribe, list the subscriptions, and watch the notifications.

They read what the workers keep in Kafka, never a worker itself: the subscriptions by folding the compacted
``coredata.subscriptions``, and which subscriptions are live, with their delivery counts, from the
``subscription-delivered`` changelog. ``subscribe`` waits for a worker's confirmation, so exit status 0
means the subscription is live.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from config.settings import Settings
from config.topics import TopicSpec
from pipeline.cli.records import Pairs, end_offsets, first, follow, latest, read_topic, send
from pipeline.cli.refusal import refuse
from pipeline.cli.tables import text_table
from pipeline.domain import subscriptions as subs
from pipeline.domain.errors import AdtrackError, FilterPolicyError, SchemaError
from pipeline.kafka.admin import ensure_topics

Data = dict[str, Any]

SUBSCRIBE_TIMEOUT_S = 30.0
SUBSCRIPTION_COLUMNS = ("name", "topic", "snapshot", "delivered", "filter")


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


def subscriptions(settings: Settings) -> dict[str, subs.Subscription]:
    """The subscriptions the workers hold now."""
    records = read_topic(settings, settings.topic_coredata_subscriptions)
    return current_subscriptions(((r.key, r.value) for r in records), settings.topic_coredata_changes)


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
    if first(follow(settings, live, mark, SUBSCRIBE_TIMEOUT_S), lambda r: r.key == key) is None:
        return refuse(f"subscription {sub.name} was written to {settings.topic_coredata_subscriptions}, but no "
                      f"worker confirmed it within {SUBSCRIBE_TIMEOUT_S:.0f} s; is a worker running?")
    print(f"subscribed {sub.name} -> {sub.topic} (live)")
    return 0


def unsubscribe(settings: Settings, args: argparse.Namespace) -> int:
    if args.name not in subscriptions(settings):
        return refuse(f"{args.name} is not subscribed")
    send(settings, settings.topic_coredata_subscriptions, args.name.encode(), None)
    print(f"unsubscribed {args.name}")
    return 0


def list_subscriptions(settings: Settings, args: argparse.Namespace) -> int:
    current = subscriptions(settings)
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
            sub = subscriptions(settings).get(args.subscription)
            if sub is None:
                return refuse(f"no subscription named {args.subscription}")
            topic = sub.topic
        start = {} if args.from_beginning else end_offsets(settings, topic)
        for count, record in enumerate(follow(settings, topic, start), start=1):
            print(describe_value(record.value), flush=True)
            if count == args.limit:
                break
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a watch ends
    return 0
