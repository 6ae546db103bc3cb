"""Two workers in one group: partitions are split, core data reaches both, the contract holds."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import murmur2

from tests import factories
from tests.harness import tracking_assignments, unique, wait_until
from tests.world import World

pytestmark = pytest.mark.integration


def campaigns_on_every_partition(partitions: int) -> list[str]:
    """Campaign ids whose home partitions cover every partition of tracking.raw."""
    chosen: dict[int, str] = {}
    while len(chosen) < partitions:
        cid = unique("cmp")
        chosen.setdefault((murmur2(cid.encode()) & 0x7FFFFFFF) % partitions, cid)
    return [chosen[p] for p in range(partitions)]


def test_every_worker_validates_against_a_change_once_it_is_notified(make_worker, kafka, settings) -> None:
    world = World(kafka)
    first = make_worker("first").start().wait_ready()
    second = make_worker("second").start().wait_ready()
    # the first worker gave up half of the partitions to the second
    wait_until(lambda: tracking_assignments(first) >= 2, 60, "a rebalance on first")

    pid, sid = unique("pub"), unique("slot")
    world.put("publisher", pid, factories.publisher_data(), wait=False)
    world.put("slot", sid, factories.slot_data(pid), wait=False)
    cids = campaigns_on_every_partition(settings.partitions)
    for cid in cids:
        world.put("campaign", cid, factories.campaign_data())

    for round_ in range(3):
        status = "paused" if round_ % 2 == 0 else "active"
        for cid in cids:
            world.put("campaign", cid, factories.campaign_data(status=status))
            ev = world.send_event((cid, pid, sid))
            kind, record = world.outcome(ev["event_id"])
            expected = "accepted" if status == "active" else "rejected"
            assert kind == expected, f"round {round_}, campaign {cid}: {record.json()}"
    first.stop()
    second.stop()
