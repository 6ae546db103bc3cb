"""A worker that starts behind both backlogs applies the core data before it validates events."""

from __future__ import annotations

import orjson
import pytest
from kafka import KafkaProducer

from tests import factories
from tests.harness import unique, wait_until
from tests.world import World

pytestmark = pytest.mark.integration


def test_events_queued_behind_published_core_data_are_validated_against_it(make_worker, kafka, settings) -> None:
    world = World(kafka)
    # core data published while no worker runs: noise first, the campaign last
    for n in range(40):
        world.put("publisher", unique("noise"), factories.publisher_data(), wait=False)
    cid, pid, sid = unique("cmp"), unique("pub"), unique("slot")
    world.put("publisher", pid, factories.publisher_data(), wait=False)
    world.put("slot", sid, factories.slot_data(pid), wait=False)
    world.put("campaign", cid, factories.campaign_data(), wait=False)
    # then a backlog of events for it, produced after the core data
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=20)
    events = [factories.event(cid, pid, sid) for _ in range(3000)]
    for ev in events:
        producer.send(settings.topic_raw, orjson.dumps(ev), key=cid.encode())
    producer.flush()
    producer.close()

    worker = make_worker().start().wait_ready()
    def outcomes() -> int:
        ours = [r for r in kafka.read(settings.topic_rejected) if r.json()["event"]["campaign_id"] == cid]
        return len(ours) + len([r for r in kafka.read(settings.topic_realtime) if r.key == cid.encode()])

    wait_until(lambda: outcomes() == len(events), 120, "an outcome for every event")
    reasons = [r.json()["reason"] for r in kafka.read(settings.topic_rejected) if r.json()["event"]["campaign_id"] == cid]
    assert reasons == []
    assert b"did not catch up" not in worker.log()
