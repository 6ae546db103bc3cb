"""Core-data updates end to end: versions, tombstones, notifications, and their contract."""

from __future__ import annotations

import orjson
import pytest

from tests import factories
from tests.world import World

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(kafka, worker) -> World:
    return World(kafka)


def notifications(world: World, entity: str, id_: str) -> list[dict]:
    return [
        n for n in (r.json() for r in world.kafka.read(world.topics.topic_coredata_changes))
        if n["entity"] == entity and n["id"] == id_
    ]


def test_a_new_entity_is_notified_with_every_field_changed(world: World) -> None:
    data = factories.publisher_data(name="Stadium Wire")
    world.put("publisher", "pub-new", data)
    [note] = notifications(world, "publisher", "pub-new")
    assert note["op"] == "upsert"
    assert note["version"] == 1
    assert note["previous_version"] is None
    assert note["changed_fields"] == ["domain", "name", "status"]
    assert note["data"] == data
    assert abs(note["at"] - factories.now_ms()) < 60_000
    record = world.wait_notified("publisher", "pub-new", 1)
    assert record.key == b"publisher:pub-new"


def test_an_update_is_notified_with_the_fields_that_changed(world: World) -> None:
    world.put("publisher", "pub-upd", factories.publisher_data())
    world.put("publisher", "pub-upd", factories.publisher_data(status="blocked", name="Renamed"))
    notes = notifications(world, "publisher", "pub-upd")
    assert [(n["version"], n["previous_version"], n["changed_fields"]) for n in notes] == [
        (1, None, ["domain", "name", "status"]),
        (2, 1, ["name", "status"]),
    ]


def test_an_update_not_newer_than_the_stored_version_is_ignored(world: World) -> None:
    cid, pid, sid = world.campaign(price=2.5)
    send = world.kafka.send
    topic = world.topics.topic_coredata_updates
    send(topic, factories.update("campaign", cid, 3, factories.campaign_data(price=7.0)), key=f"campaign:{cid}")
    world.wait_notified("campaign", cid, 3)
    # late and replayed versions arrive after v3: neither may win
    send(topic, factories.update("campaign", cid, 2, factories.campaign_data(price=1.0)), key=f"campaign:{cid}")
    send(topic, factories.update("campaign", cid, 3, factories.campaign_data(price=1.0)), key=f"campaign:{cid}")
    world.put("publisher", pid, factories.publisher_data(name="Marker"))  # a later update, to know both were read
    ev = world.send_event((cid, pid, sid))
    kind, record = world.outcome(ev["event_id"])
    assert kind == "accepted"
    assert record.json()["campaign"]["price"] == 7.0
    assert [n["version"] for n in notifications(world, "campaign", cid)] == [1, 3]


def test_a_delete_leaves_a_tombstone_that_older_upserts_cannot_resurrect(world: World) -> None:
    cid, pid, sid = world.campaign()
    world.versions[("campaign", cid)] = 4
    world.delete("campaign", cid)  # version 5
    [*_, deleted] = notifications(world, "campaign", cid)
    assert (deleted["op"], deleted["version"], deleted["changed_fields"], deleted["data"]) == ("delete", 5, [], None)
    ev = world.send_event((cid, pid, sid))
    assert world.outcome(ev["event_id"])[1].json()["reason"] == "unknown_campaign"

    world.kafka.send(world.topics.topic_coredata_updates, factories.update("campaign", cid, 3, factories.campaign_data()),
                     key=f"campaign:{cid}")
    world.put("publisher", pid, factories.publisher_data(name="Marker"))
    ev = world.send_event((cid, pid, sid))
    assert world.outcome(ev["event_id"])[1].json()["reason"] == "unknown_campaign"

    world.versions[("campaign", cid)] = 5
    world.put("campaign", cid, factories.campaign_data())  # version 6: a newer upsert does bring it back
    [*_, back] = notifications(world, "campaign", cid)
    assert (back["op"], back["previous_version"], len(back["changed_fields"])) == ("upsert", 5, 9)
    ev = world.send_event((cid, pid, sid))
    assert world.outcome(ev["event_id"])[0] == "accepted"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"not json", "malformed"),
        (orjson.dumps({"entity": "campaign", "op": "upsert", "id": "c1", "version": 0, "data": {}}), "schema"),
        (orjson.dumps(factories.update("slot", "s1", 1, {"publisher_id": "p1", "format": "poster"})), "schema"),
        (orjson.dumps(factories.update("moon", "m1", 1, {})), "schema"),
    ],
)
def test_invalid_updates_go_to_the_coredata_dlq(world: World, value: bytes, reason: str) -> None:
    meta = world.kafka.send(world.topics.topic_coredata_updates, value, key=b"k")
    dead = world.kafka.wait_for(
        world.topics.topic_coredata_dlq, lambda r: r.headers["dlq.offset"] == str(meta.offset).encode()
    )[0]
    assert dead.value == value
    assert dead.headers["dlq.reason"] == reason.encode()
    assert dead.headers["dlq.topic"] == world.topics.topic_coredata_updates.encode()
    assert dead.headers["dlq.partition"] == b"0"


def test_events_sent_after_a_notification_see_the_change(world: World) -> None:
    ids = world.campaign()
    for round_ in range(5):
        status = "paused" if round_ % 2 == 0 else "active"
        world.put("campaign", ids[0], factories.campaign_data(status=status))
        ev = world.send_event(ids)
        kind, record = world.outcome(ev["event_id"])
        assert (kind == "accepted") == (status == "active"), f"round {round_}: {record.json()}"
