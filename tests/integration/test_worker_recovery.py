"""State survives the worker: tables rebuild from their changelogs, even with the data dir wiped."""

from __future__ import annotations

import shutil

import pytest

from tests.world import World

pytestmark = pytest.mark.integration


def test_a_worker_with_its_data_dir_wiped_rebuilds_tables_and_keeps_enriching(make_worker, kafka) -> None:
    world = World(kafka)
    worker = make_worker("first").start().wait_ready()
    ids = world.campaign(budget=10 * 0.0025, price=2.5, name="Before Restart")
    before = [world.send_event(ids) for _ in range(4)]
    assert [world.outcome(ev["event_id"])[0] for ev in before] == ["accepted"] * 4

    worker.stop()
    shutil.rmtree(worker.datadir)
    restarted = make_worker("restarted", datadir=worker.datadir).start().wait_ready()

    # core data came back from the changelog: enrichment still works
    ev = world.send_event(ids)
    kind, record = world.outcome(ev["event_id"])
    assert kind == "accepted"
    assert record.json()["campaign"]["name"] == "Before Restart"
    # spend came back: the budget goes on from where it was, it does not start over
    assert record.json()["budget_remaining"] == pytest.approx(5 * 0.0025)
    # dedupe state came back: an event accepted before the restart is still a duplicate
    kafka.send(world.topics.topic_raw, before[0], key=ids[0])
    dup = kafka.wait_for(world.topics.topic_rejected, lambda r: r.json()["event"]["event_id"] == before[0]["event_id"])
    assert dup[0].json()["reason"] == "duplicate"
    # and the remaining budget is spent exactly
    after = [world.send_event(ids) for _ in range(6)]
    kinds = [world.outcome(e["event_id"])[0] for e in after]
    assert kinds == ["accepted"] * 5 + ["rejected"]
    # tracking started only once the restarted worker's tables held the core data
    assert b"did not catch up" not in restarted.log()
    restarted.stop()
