"""The tracking pipeline end to end: a real broker, a real worker, real topics."""

from __future__ import annotations

import pytest

from tests.world import World

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world(kafka, worker) -> World:
    return World(kafka)


def test_a_valid_impression_is_enriched_and_written_to_realtime_and_batch(world: World) -> None:
    ids = world.campaign(budget=100.0, price=2.5)
    ev = world.send_event(ids)
    kind, record = world.outcome(ev["event_id"])
    assert kind == "accepted"
    enriched = record.json()
    assert enriched["cost"] == 0.0025
    assert enriched["budget_remaining"] == 100.0 - 0.0025
    assert enriched["campaign"]["id"] == ids[0]
