"""Dedupe entries expire: inside the window a copy is a duplicate, after it stale; the batches of expired
entries are tombstoned in the state changelog, and a wiped data dir restored from that changelog holds none of them.
"""

from __future__ import annotations

import shutil

import orjson
import pytest

from config.settings import Settings
from pipeline.state.records import ACCEPTED_BATCH, AcceptedBatch, accepted_key
from tests import factories
from tests.changelogs import held_state, state_changelog
from tests.harness import Kafka, Tail, wait_until
from tests.world import World

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WINDOW_S, SKEW_S = 8, 1
SHORT_WINDOW = {"ADTRACK_DEDUPE_WINDOW_S": str(WINDOW_S), "ADTRACK_MAX_CLOCK_SKEW_S": str(SKEW_S)}


def tombstoned(settings: Settings, event_ids: set[str]) -> bool:
    """Whether the accepted batches that hold ``event_ids`` were all tombstoned (there is at least one)."""
    tail = Tail(settings.bootstrap_servers, settings.tracking_state_topic)
    try:
        records = tail.read()
    finally:
        tail.close()
    holding = {r.key for r in records if r.key.startswith(ACCEPTED_BATCH) and r.value is not None
               and event_ids & set(AcceptedBatch.decode(r.value).event_ids)}
    return bool(holding) and holding <= {r.key for r in records if r.value is None}


def test_expired_entries_are_tombstoned_and_a_wiped_worker_restores_without_them(
    make_worker, kafka: Kafka, settings: Settings
) -> None:
    worker = make_worker("expiry-0", **SHORT_WINDOW).start().wait_ready()
    world = World(kafka)
    ids = world.campaign()
    old = [world.send_event(ids) for _ in range(5)]
    for event in old:
        assert world.outcome(event["event_id"], timeout=60)[0] == "accepted"

    expired = {accepted_key(e["event_id"]) for e in old}
    wait_until(lambda: tombstoned(settings, {e["event_id"] for e in old}), 60,
               "the tombstones of the expired entries' batches", interval=0.5)
    # After the window a copy is too old to count, whatever the dedupe state says.
    copy = {**old[0], "event_id": old[0]["event_id"]}
    kafka.send(settings.topic_raw, copy, key=ids[0])
    late = kafka.wait_for(settings.topic_rejected, lambda r: r.json()["event"]["event_id"] == copy["event_id"])
    assert [r.json()["reason"] for r in late] == ["stale_event"]

    fresh = world.send_event(ids)
    assert world.outcome(fresh["event_id"], timeout=60)[0] == "accepted"
    again = factories.event(*ids, event_id=fresh["event_id"], ts=fresh["ts"])
    kafka.send(settings.topic_raw, orjson.dumps(again), key=ids[0])
    twice = kafka.wait_for(settings.topic_rejected, lambda r: r.json()["event"]["event_id"] == fresh["event_id"])
    assert [r.json()["reason"] for r in twice] == ["duplicate"]

    worker.stop()
    shutil.rmtree(worker.datadir)
    worker = make_worker("expiry-1", datadir=worker.datadir, **SHORT_WINDOW).start().wait_ready()
    wait_until(lambda: worker.log().count(b"restored tracking state") >= settings.partitions, 60, "the restore")
    worker.stop()  # graceful: its stores are closed and can be opened read-only

    rebuilt = state_changelog(settings)
    holds = held_state(worker.datadir, settings, sorted(rebuilt))
    for p in sorted(rebuilt):
        assert holds[p] == rebuilt[p], f"tracking state[{p}]: the restored store differs from its changelog"
    kept = {key for rows in holds.values() for key in rows}
    assert not {key.decode() for key in expired} & kept, "an expired entry came back with the restore"
    assert any(key.startswith("spend:") for key in kept), "nothing restored: the comparison proves nothing"
