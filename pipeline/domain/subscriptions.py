"""Subscriptions to core-data changes: what they are, and the delivery rule.

A subscription is ``{"name", "topic", "filter", "snapshot", "at"}`` on the compacted topic
``coredata.subscriptions`` (key = name, tombstone = unsubscribe). Every notification whose
attributes match the filter policy is delivered to the subscription's topic, keyed by
``<entity>:<id>``. With ``snapshot`` the current state of everything the policy matches is
delivered first, as ``op: "snapshot"``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import orjson

from pipeline.domain.codec import decode_object
from pipeline.domain.errors import SchemaError
from pipeline.domain.filters import FilterPolicy, compile_policy

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")

Data = dict[str, Any]

#: The table of delivery counts per subscription; its changelog also tells which subscriptions are live.
DELIVERED_TABLE = "subscription-delivered"


def delivered_changelog(app_id: str) -> str:
    return f"{app_id}-{DELIVERED_TABLE}-changelog"


def default_topic(name: str, changes_topic: str = "coredata.changes") -> str:
    return f"{changes_topic}.{name}"


@dataclasses.dataclass(frozen=True)
class Subscription:
    name: str
    topic: str
    policy: FilterPolicy
    snapshot: bool = False
    at: int = 0

    def to_json(self) -> bytes:
        return orjson.dumps(
            {"name": self.name, "topic": self.topic, "filter": self.policy.policy, "snapshot": self.snapshot,
             "at": self.at}
        )


def check_name(name: Any) -> str:
    if type(name) is not str or not NAME.match(name):
        raise SchemaError(
            f"subscription name {name!r} must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def make(name: str, policy: Any, topic: str | None, snapshot: bool, at: int, changes_topic: str) -> Subscription:
    """A checked subscription; raises ``SchemaError`` or ``FilterPolicyError`` saying what is wrong."""
    check_name(name)
    topic = topic or default_topic(name, changes_topic)
    if not TOPIC.match(topic):
        raise SchemaError(f"topic {topic!r} is not a valid Kafka topic name")
    if topic == changes_topic:
        raise SchemaError(f"topic {topic!r} is the notifications topic itself; pick another")
    return Subscription(name, topic, compile_policy(policy), bool(snapshot), at)


def decode(value: bytes, changes_topic: str) -> Subscription:
    raw = decode_object(value)
    return make(raw.get("name"), raw.get("filter"), raw.get("topic"), raw.get("snapshot", False),
                raw.get("at", 0), changes_topic)


def snapshot_notification(entity: str, id_: str, stored: Data) -> Data:
    """The current state of one entity, as a notification with ``op: "snapshot"``."""
    data = stored["data"]
    return {
        "entity": entity,
        "id": id_,
        "op": "snapshot",
        "version": stored["version"],
        "previous_version": None,
        "changed_fields": sorted(data),
        "data": data,
        "at": stored["at"],
    }


def matches_snapshot(policy: FilterPolicy, notification: Data) -> bool:
    """Snapshots are matched as the upserts that made that state, so ``op: ["upsert"]`` includes them."""
    return policy.matches({**notification, "op": "upsert"})
