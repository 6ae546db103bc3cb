"""The fan-out agent: every change notification to every subscription whose policy matches it.

It reads ``coredata.subscriptions`` and ``coredata.changes`` as one stream. Both have one
partition, as does ``coredata.updates``, so Faust's assignor keeps all three on one worker: the
worker whose core-data tables are the first to hold every notified version. A new subscription's
snapshot is therefore taken from tables at least as new as any notification delivered so far, and
the live notifications after it that it already covers are skipped (``pipeline.domain.delivery``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from agents.coredata import dead_letter
from agents.deadletters import handle_or_dead_letter
from config.topics import TopicSpec
from pipeline import subscriptions as subs
from pipeline.admin import ensure_topics
from pipeline.app import app, settings
from pipeline.coredata import ENTITIES
from pipeline.domain.delivery import CHANGE, SNAPSHOT, Delivery, should_deliver
from pipeline.errors import AdtrackError
from tables import coredata
from tables.subscriptions import deliveries, delivered, delivery_key, subscriptions

log = logging.getLogger(__name__)

RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
source_topic = app.topic(settings.topic_coredata_subscriptions, settings.topic_coredata_changes, **RAW)

_compiled: dict[tuple[str, int], subs.Subscription] = {}
_targets: dict[str, Any] = {}


def target(topic: str) -> Any:
    try:
        return _targets[topic]
    except KeyError:
        t = _targets[topic] = app.topic(topic, **RAW)
        return t


def active() -> list[subs.Subscription]:
    """The current subscriptions, compiled once per (name, creation time)."""
    out = []
    for name, raw in subscriptions.items():
        key = (name, raw["at"])
        sub = _compiled.get(key)
        if sub is None:
            sub = _compiled[key] = subs.make(name, raw["filter"], raw["topic"], raw["snapshot"], raw["at"],
                                             settings.topic_coredata_changes)
        out.append(sub)
    return out


async def deliver(sub: subs.Subscription, entity: str, id_: str, value: bytes, delivery: Delivery) -> bool:
    key = delivery_key(sub.name, sub.at, entity, id_)
    last = deliveries.get(key)
    if not should_deliver(None if last is None else Delivery.from_stored(last), delivery):
        return False
    await target(sub.topic).send(
        key=f"{entity}:{id_}".encode(), value=value, headers=[("adtrack.subscription", sub.name.encode())]
    )
    deliveries[key] = delivery.stored()
    delivered[sub.name] += 1
    return True


async def on_subscription(message: Any) -> None:
    name = (message.key or b"").decode(errors="replace")
    if message.value is None:
        if subscriptions.get(name) is not None:
            del subscriptions[name]
            log.info("unsubscribed %s", name)
        return
    try:
        sub = subs.decode(message.value, settings.topic_coredata_changes)
    except AdtrackError as exc:
        await dead_letter(message, getattr(exc, "reason", "schema"), str(exc), stage="subscription")
        return
    current = subscriptions.get(name)
    if current is not None and current["at"] == sub.at:
        return  # the same subscription seen again
    await ensure_topics(settings, [TopicSpec(sub.topic, 1)])
    subscriptions[name] = orjson.loads(sub.to_json())
    delivered[name] = 0  # its first count on the changelog also tells the CLI that the subscription is live
    log.info("subscribed %s -> %s, filter %s", name, sub.topic, orjson.dumps(sub.policy.policy).decode())
    if sub.snapshot:
        sent = 0
        for entity in ENTITIES:
            for id_, stored in coredata.items(entity):
                if stored["deleted"]:
                    continue
                note = subs.snapshot_notification(entity, id_, stored)
                if subs.matches_snapshot(sub.policy, note):
                    sent += await deliver(sub, entity, id_, orjson.dumps(note),
                                          Delivery(stored["version"], SNAPSHOT, message.offset))
        log.info("snapshot of %d entities delivered to %s", sent, sub.name)


async def on_change(message: Any) -> None:
    note = orjson.loads(message.value)
    for sub in active():
        if sub.policy.matches(note):
            await deliver(sub, note["entity"], note["id"], message.value,
                          Delivery(note["version"], CHANGE, message.offset))


@app.agent(source_topic)
async def fan_out(stream: Any) -> None:
    async for event in stream.events():
        await handle_or_dead_letter(event.message, on_record, dead_letter, "fanout")


async def on_record(message: Any) -> None:
    if message.topic == settings.topic_coredata_subscriptions:
        await on_subscription(message)
    else:
        await on_change(message)
