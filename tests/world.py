"""A small world of core data on the real broker, and the events that flow through it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from pipeline.domain import subscriptions
from tests import factories
from tests.harness import Kafka, ConsumedRecord, unique, wait_until


@dataclass
class World:
    """Core data published through ``coredata.updates`` and confirmed by its notifications."""

    kafka: Kafka
    versions: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def topics(self):  # noqa: ANN201
        return self.kafka.settings

    def put(self, entity: str, id_: str, data: dict[str, Any] | None, op: str = "upsert", wait: bool = True) -> int:
        version = self.versions.get((entity, id_), 0) + 1
        self.versions[(entity, id_)] = version
        self.kafka.send(self.topics.topic_coredata_updates, factories.update(entity, id_, version, data, op),
                        key=f"{entity}:{id_}")
        if wait:
            self.wait_notified(entity, id_, version)
        return version

    def delete(self, entity: str, id_: str, wait: bool = True) -> int:
        return self.put(entity, id_, None, op="delete", wait=wait)

    def wait_notified(self, entity: str, id_: str, version: int, timeout: float = 30.0) -> ConsumedRecord:
        def match(r: ConsumedRecord) -> bool:
            note = r.json()
            return note["entity"] == entity and note["id"] == id_ and note["version"] == version

        return self.kafka.wait_for(self.topics.topic_coredata_changes, match, timeout=timeout)[0]

    def campaign(
        self, budget: float | None = None, publisher: dict[str, Any] | None = None, slot: dict[str, Any] | None = None,
        **campaign: Any,
    ) -> tuple[str, str, str]:
        """A campaign with its own publisher and slot (and budget); returns their ids."""
        cid, pid, sid = unique("cmp"), unique("pub"), unique("slot")
        self.put("publisher", pid, factories.publisher_data(**(publisher or {})), wait=False)
        self.put("slot", sid, factories.slot_data(pid, **(slot or {})), wait=False)
        if budget is not None:
            self.put("budget", cid, {"total": budget}, wait=False)
        self.put("campaign", cid, factories.campaign_data(**campaign))
        return cid, pid, sid

    def send_event(self, ids: tuple[str, str, str], headers=(), key: str | bytes | None = ..., **fields: Any) -> dict:
        ev = factories.event(*ids, **fields)
        self.kafka.send(self.topics.topic_raw, ev, key=ids[0] if key is ... else key, headers=headers)
        return ev

    def outcome(self, event_id: str, timeout: float = 30.0) -> tuple[str, ConsumedRecord]:
        """Wait for the event's outcome: ("accepted", realtime record) or ("rejected", rejection record)."""
        topics = self.topics
        found: dict[str, ConsumedRecord] = {}

        def look() -> bool:
            for r in self.kafka.read(topics.topic_realtime):
                if r.json()["event_id"] == event_id:
                    found["accepted"] = r
            for r in self.kafka.read(topics.topic_rejected):
                if r.json()["event"]["event_id"] == event_id:
                    found["rejected"] = r
            return bool(found)

        wait_until(look, timeout, f"an outcome for event {event_id}", interval=0.2)
        assert len(found) == 1, f"event {event_id} both accepted and rejected"
        return next(iter(found.items()))


def subscribe(kafka: Kafka, name: str, policy: dict, snapshot: bool = False, topic: str | None = None) -> str:
    """Write a subscription straight to its topic, as the CLI does, and wait until it is live."""
    settings = kafka.settings
    sub = subscriptions.make(name, policy, topic, snapshot, factories.now_ms(), settings.topic_coredata_changes)
    kafka.send(settings.topic_coredata_subscriptions, sub.to_json(), key=name)
    kafka.wait_for(subscriptions.delivered_changelog(settings.app_id), lambda r: r.key == orjson.dumps(name))
    return sub.topic


def unsubscribe(kafka: Kafka, name: str) -> None:
    kafka.send(kafka.settings.topic_coredata_subscriptions, None, key=name)
