"""Subscribers get the notifications their filter policy selects: in order, without restarts."""

from __future__ import annotations

import pytest

from tests import factories
from tests.harness import unique, wait_until
from tests.world import World, subscribe, unsubscribe

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(kafka, worker) -> World:
    return World(kafka)


def delivered(world: World, topic: str) -> list[dict]:
    return [r.json() for r in world.kafka.read(topic)]


def wait_delivered(world: World, topic: str, count: int) -> list[dict]:
    return [r.json() for r in world.kafka.wait_for(topic, lambda r: True, count=count)]


def test_two_subscribers_with_different_policies_each_get_exactly_their_subset(world: World) -> None:
    tag = unique("t")
    pacing = subscribe(world.kafka, unique("pacing"), {"entity": ["budget"], "id": [{"prefix": tag}]})
    fraud = subscribe(world.kafka, unique("fraud"),
                      {"entity": ["publisher"], "id": [{"prefix": tag}], "data.status": ["blocked"]})
    world.put("publisher", f"{tag}-p1", factories.publisher_data())
    world.put("publisher", f"{tag}-p2", factories.publisher_data(status="blocked"))
    world.put("budget", f"{tag}-c1", {"total": 50.0})
    world.put("publisher", f"{tag}-p1", factories.publisher_data(status="blocked"))
    world.put("campaign", f"{tag}-c1", factories.campaign_data())
    world.put("budget", f"{tag}-c1", {"total": 75.0})
    marker = world.put("publisher", f"{tag}-end", factories.publisher_data(status="blocked"))

    fraud_notes = wait_delivered(world, fraud, 3)
    assert [(n["id"], n["version"]) for n in fraud_notes] == [(f"{tag}-p2", 1), (f"{tag}-p1", 2), (f"{tag}-end", marker)]
    pacing_notes = wait_delivered(world, pacing, 2)
    assert [(n["id"], n["data"]["total"]) for n in pacing_notes] == [(f"{tag}-c1", 50.0), (f"{tag}-c1", 75.0)]
    # the fraud marker came after every pacing change, and pacing got nothing more
    assert len(delivered(world, pacing)) == 2


def test_a_subscription_added_while_changes_flow_receives_them_without_a_restart(world: World) -> None:
    tag = unique("flow")
    world.put("slot", f"{tag}-before", factories.slot_data("p"))
    topic = subscribe(world.kafka, unique("late"), {"entity": ["slot"], "id": [{"prefix": tag}]})
    world.put("slot", f"{tag}-after", factories.slot_data("p"))
    notes = world.kafka.wait_for(topic, lambda r: r.json()["id"] == f"{tag}-after")
    assert notes[0].json()["version"] == 1
    # a change notified just before subscribing may or may not be delivered: live starts when the
    # fan-out reads the subscription, not when the command was run
    assert {r.json()["id"] for r in world.kafka.read(topic)} <= {f"{tag}-before", f"{tag}-after"}


def test_unsubscribe_stops_delivery(world: World) -> None:
    tag = unique("gone")
    name = unique("leaver")
    topic = subscribe(world.kafka, name, {"id": [{"prefix": tag}]})
    world.put("publisher", f"{tag}-1", factories.publisher_data())
    wait_delivered(world, topic, 1)
    unsubscribe(world.kafka, name)
    # a follower subscription sees a later change: by then the unsubscribe was read (same stream, in order)
    follower = subscribe(world.kafka, unique("follower"), {"id": [{"prefix": tag}]})
    world.put("publisher", f"{tag}-2", factories.publisher_data())
    wait_delivered(world, follower, 1)
    assert [n["id"] for n in delivered(world, topic)] == [f"{tag}-1"]


def test_per_key_order_is_preserved_across_a_thousand_changes(world: World) -> None:
    tag = unique("order")
    topic = subscribe(world.kafka, unique("ordered"), {"entity": ["budget"], "id": [{"prefix": tag}]})
    ids = [f"{tag}-{n}" for n in range(10)]
    for version in range(1, 101):
        for id_ in ids:
            world.kafka.send(world.topics.topic_coredata_updates,
                             factories.update("budget", id_, version, {"total": float(version)}),
                             key=f"budget:{id_}")
    notes = wait_delivered(world, topic, 1000)
    assert len(notes) == 1000
    for id_ in ids:
        assert [n["version"] for n in notes if n["id"] == id_] == list(range(1, 101))


def test_a_snapshot_comes_before_live_changes_with_no_gap_and_no_reordering(world: World) -> None:
    tag = unique("snap")
    ids = [f"{tag}-{n}" for n in range(5)]
    for id_ in ids:
        world.put("campaign", id_, factories.campaign_data(price=1.0), wait=False)
    world.put("campaign", f"{tag}-paused", factories.campaign_data(status="paused"))
    world.delete("campaign", ids[4])

    # changes keep flowing while the subscription is made
    def change(n: int) -> None:
        world.put("campaign", ids[n % 4], factories.campaign_data(price=float(n)), wait=False)

    for n in range(20):
        change(n)
    topic = subscribe(world.kafka, unique("snapper"),
                      {"entity": ["campaign"], "id": [{"prefix": tag}], "data.status": ["active"]}, snapshot=True)
    for n in range(20, 40):
        change(n)
    last = {ids[i]: world.versions[("campaign", ids[i])] for i in range(4)}
    world.wait_notified("campaign", ids[39 % 4], last[ids[39 % 4]])

    def complete() -> bool:
        got = delivered(world, topic)
        return all(any(n["id"] == i and n["version"] == v for n in got) for i, v in last.items())

    wait_until(complete, 30, "every key at its last version")
    notes = delivered(world, topic)
    snapshot = [n for n in notes if n["op"] == "snapshot"]
    assert notes[: len(snapshot)] == snapshot, "a live change came before the snapshot ended"
    assert sorted(n["id"] for n in snapshot) == sorted(ids[:4])  # not the paused one, not the deleted one
    for id_ in ids[:4]:
        versions = [n["version"] for n in notes if n["id"] == id_]
        assert versions == sorted(versions) and len(set(versions)) == len(versions), f"{id_}: {versions}"
        assert versions[-1] == last[id_]
        # no gap: after the snapshot's version, every later version arrives
        assert versions == list(range(versions[0], last[id_] + 1))


def test_delivering_to_a_new_topic_does_not_stall_later_updates(world: World) -> None:
    # Regression: the first send to a topic created at run time refreshed the producer's
    # metadata for that topic alone, and batches queued for other topics never left.
    for round_ in range(3):
        tag = unique("fresh")
        topic = subscribe(world.kafka, unique("fresh"), {"entity": ["budget"], "id": [{"prefix": tag}]})
        world.kafka.read(world.topics.topic_coredata_changes)  # a little time passes, as it would
        world.put("budget", f"{tag}-1", {"total": 1.0})
        world.put("budget", unique("other"), {"total": 1.0})
        world.put("publisher", unique("other"), factories.publisher_data())
        assert [n["id"] for n in wait_delivered(world, topic, 1)] == [f"{tag}-1"]
