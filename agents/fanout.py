"""The fan-out agent: every change notification to every subscription whose policy matches it.

It reads ``coredata.subscriptions`` and ``coredata.changes`` as one stream. Both have one
partition, as does ``coredata.updates``, so Faust's assignor keeps all three on one worker: the
worker whose core-data tables are the first to hold every notified version. A new subscription's
snapshot is therefore taken from tables at least as new as any notification delivered so far, and
the live notifications after it that it already covers are skipped (``pipeline.domain.delivery``). A
delivery is recorded once the broker acknowledged it; one that cannot be sent stops the worker with its input
uncommitted (``agents.deadletters``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson

from agents.coredata import dead_letter
from agents.deadletters import handle_or_dead_letter, located
from config.topics import TopicSpec
from pipeline.app import app, settings
from pipeline.domain import subscriptions as subs
from pipeline.domain.coredata import ENTITIES
from pipeline.domain.delivery import CHANGE, SNAPSHOT, Delivery, should_deliver
from pipeline.domain.errors import AdtrackError
from pipeline.kafka.admin import ensure_topics
from pipeline.kafka.sending import send_all
from tables import coredata
from tables.subscriptions import deliveries, delivered, delivery_key, subscriptions

log = logging.getLogger(__name__)

RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
source_topic = app.topic(settings.topic_coredata_subscriptions, settings.topic_coredata_changes, **RAW)

#: Snapshot deliveries sent at once: a large snapshot is not one burst of futures.
SNAPSHOT_CHUNK = 1000

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


@dataclass(frozen=True)
class Notification:
    """A notification for one subscription, and the delivery it would be (``should_deliver``)."""

    sub: subs.Subscription
    entity: str
    id: str
    value: bytes
    delivery: Delivery

    @property
    def key(self) -> str:
        return delivery_key(self.sub.name, self.sub.at, self.entity, self.id)

    def send(self) -> Any:
        return target(self.sub.topic).send(key=f"{self.entity}:{self.id}".encode(), value=self.value,
                                           headers=[("adtrack.subscription", self.sub.name.encode())])


def _last(key: str) -> Delivery | None:
    stored = deliveries.get(key)
    return None if stored is None else Delivery.from_stored(stored)


async def deliver(wanted: list[Notification], message: Any) -> int:
    """Send what the subscriptions have not had yet; once all of it is acknowledged, record it. How many were due."""
    due = [n for n in wanted if should_deliver(_last(n.key), n.delivery)]
    if not due:
        return 0
    await send_all([n.send for n in due], f"{len(due)} notification(s) to subscriptions", settings.send_timeout_s,
                   located(message))
    for n in due:
        deliveries[n.key] = n.delivery.stored()
        delivered[n.sub.name] += 1
    return len(due)


async def on_subscription(message: Any) -> None:
    name = (message.key or b"").decode(errors="replace")
    if message.value is None:
        if subscriptions.get(name) is not None:
            del subscriptions[name]
            log.info("unsubscribed %s", name, extra=located(message))
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
    log.info("subscribed %s -> %s, filter %s", name, sub.topic, orjson.dumps(sub.policy.policy).decode(),
             extra=located(message))
    if sub.snapshot:
        sent = 0
        chunk: list[Notification] = []
        for entity in ENTITIES:
            for id_, stored in coredata.items(entity):
                if stored["deleted"]:
                    continue
                note = subs.snapshot_notification(entity, id_, stored)
                if subs.matches_snapshot(sub.policy, note):
                    chunk.append(Notification(sub, entity, id_, orjson.dumps(note),
                                              Delivery(stored["version"], SNAPSHOT, message.offset)))
                if len(chunk) >= SNAPSHOT_CHUNK:
                    sent += await deliver(chunk, message)
                    chunk = []
        sent += await deliver(chunk, message)
        log.info("snapshot of %d entities delivered to %s", sent, sub.name, extra=located(message))


async def on_change(message: Any) -> None:
    note = orjson.loads(message.value)
    delivery = Delivery(note["version"], CHANGE, message.offset)
    await deliver([Notification(sub, note["entity"], note["id"], message.value, delivery)
                   for sub in active() if sub.policy.matches(note)], message)


@app.agent(source_topic)
async def fan_out(stream: Any) -> None:
    async for event in stream.events():
        await handle_or_dead_letter(event.message, on_record, dead_letter, "fanout")


async def on_record(message: Any) -> None:
    if message.topic == settings.topic_coredata_subscriptions:
        await on_subscription(message)
    else:
        await on_change(message)
