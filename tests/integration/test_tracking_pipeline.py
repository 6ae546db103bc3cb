"""The tracking pipeline end to end: the embedded broker, a real worker, real topics."""

from __future__ import annotations

import re

import orjson
import pytest

from tests import factories
from tests.harness import ConsumedRecord
from tests.world import World

pytestmark = pytest.mark.integration

DAY_MS = 24 * factories.HOUR_MS
CRAWLER_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture(scope="module")
def world(kafka, worker) -> World:
    return World(kafka)


@pytest.fixture(scope="module")
def ids(world: World) -> tuple[str, str, str]:
    """One ordinary CPM campaign without a budget limit."""
    return world.campaign(price=2.5)


def rejection(world: World, event_id: str) -> dict:
    kind, record = world.outcome(event_id)
    assert kind == "rejected", f"expected a rejection, got {record.json()}"
    return record.json()


def test_a_valid_impression_is_enriched_and_written_to_realtime_and_batch(world: World) -> None:
    ids = world.campaign(budget=100.0, price=2.5, name="Spring Sale", advertiser_name="Acme Outdoor")
    cid, pid, sid = ids
    ev = world.send_event(ids, campaign_note="passes through")
    kind, record = world.outcome(ev["event_id"])
    assert kind == "accepted"
    assert record.key == cid.encode()
    enriched = record.json()
    assert {k: enriched[k] for k in ev} == ev
    assert enriched["campaign"] == {
        "id": cid, "name": "Spring Sale", "advertiser_id": "adv-acme", "advertiser_name": "Acme Outdoor",
        "pricing_model": "cpm", "price": 2.5,
    }
    assert enriched["publisher"] == {"id": pid, "name": "Daily Ledger", "domain": "dailyledger.example"}
    assert enriched["slot"] == {"id": sid, "format": "banner", "width": 300, "height": 250}
    assert enriched["cost"] == 0.0025
    assert enriched["budget_remaining"] == 99.9975
    assert abs(enriched["processed_at"] - factories.now_ms()) < 60_000
    assert re.fullmatch(r"[0-9a-f]{32}", enriched["trace_id"])
    batch = world.kafka.wait_for(world.topics.topic_batch, lambda r: r.json()["event_id"] == ev["event_id"])
    assert batch[0].json() == enriched and batch[0].key == cid.encode()


@pytest.mark.parametrize(
    ("event_type", "model", "price", "cost"),
    [
        ("impression", "cpm", 4.0, 0.004),
        ("click", "cpm", 4.0, 0.0),
        ("click", "cpc", 0.85, 0.85),
        ("impression", "cpc", 0.85, 0.0),
        ("conversion", "cpa", 12.0, 12.0),
        ("click", "cpa", 12.0, 0.0),
    ],
)
def test_cost_follows_the_pricing_model(world: World, event_type: str, model: str, price: float, cost: float) -> None:
    ids = world.campaign(pricing_model=model, price=price)
    ev = world.send_event(ids, type=event_type)
    kind, record = world.outcome(ev["event_id"])
    assert kind == "accepted"
    assert record.json()["cost"] == cost
    assert record.json()["budget_remaining"] is None  # no budget record: no limit


def test_the_trace_id_comes_from_the_traceparent_header(world: World, ids) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    ev = world.send_event(ids, headers=[("traceparent", f"00-{trace}-00f067aa0ba902b7-01".encode())])
    kind, record = world.outcome(ev["event_id"])
    assert record.json()["trace_id"] == trace
    assert record.headers["traceparent"].decode().split("-")[1] == trace


def test_an_event_without_a_key_is_processed_on_its_campaigns_partition(world: World) -> None:
    ids = world.campaign(budget=1.0, price=2.5)
    events = [world.send_event(ids, key=None) for _ in range(6)]
    outcomes = [world.outcome(ev["event_id"]) for ev in events]
    assert [kind for kind, _ in outcomes] == ["accepted"] * 6
    assert {r.partition for _, r in outcomes} == {outcomes[0][1].partition}
    assert sorted(r.json()["budget_remaining"] for _, r in outcomes) == [
        pytest.approx(1.0 - n * 0.0025) for n in range(6, 0, -1)
    ]


def test_an_event_id_seen_before_is_rejected_as_duplicate(world: World, ids) -> None:
    ev = world.send_event(ids)
    assert world.outcome(ev["event_id"])[0] == "accepted"
    world.kafka.send(world.topics.topic_raw, ev, key=ids[0])
    records = world.kafka.wait_for(
        world.topics.topic_rejected, lambda r: r.json()["event"]["event_id"] == ev["event_id"]
    )
    assert records[0].json()["reason"] == "duplicate"
    assert len([r for r in world.kafka.read(world.topics.topic_realtime) if r.json()["event_id"] == ev["event_id"]]) == 1


@pytest.mark.parametrize(
    ("reason", "fields"),
    [
        ("future_event", {"ts": factories.now_ms() + 3_600_000}),
        ("stale_event", {"ts": factories.now_ms() - 2 * DAY_MS}),
        ("bot", {"user_agent": CRAWLER_UA}),
        ("bot", {"user_agent": ...}),
        ("bot", {"user_agent": "python-requests/2.32.3"}),
    ],
)
def test_event_level_rules_reject_with_their_reason(world: World, ids, reason: str, fields: dict) -> None:
    ev = world.send_event(ids, **fields)
    rejected = rejection(world, ev["event_id"])
    assert rejected["reason"] == reason
    assert rejected["event"] == ev
    assert rejected["detail"]
    assert abs(rejected["rejected_at"] - factories.now_ms()) < 60_000


def test_unknown_core_data_is_rejected_with_its_reason(world: World, ids) -> None:
    cid, pid, sid = ids
    cases = {
        "unknown_campaign": ("cmp-nobody-knows", pid, sid),
        "unknown_publisher": (cid, "pub-nobody-knows", sid),
        "unknown_slot": (cid, pid, "slot-nobody-knows"),
    }
    sent = {reason: world.send_event(case) for reason, case in cases.items()}
    for reason, ev in sent.items():
        assert rejection(world, ev["event_id"])["reason"] == reason


def test_inactive_campaigns_reject_events(world: World) -> None:
    now = factories.now_ms()
    paused = world.campaign(status="paused")
    ended = world.campaign(status="ended")
    not_started = world.campaign(start_ts=now + DAY_MS, end_ts=None)
    finished = world.campaign(start_ts=now - 2 * DAY_MS, end_ts=now - DAY_MS + 60_000)
    for ids in (paused, ended, not_started, finished):
        ev = world.send_event(ids)
        assert rejection(world, ev["event_id"])["reason"] == "campaign_inactive"


def test_publishers_must_be_allowed_and_slots_must_match(world: World, ids) -> None:
    blocked = world.campaign(publisher={"status": "blocked"})
    listed = world.campaign(publishers=["pub-someone-else"])
    _, other_pid, other_sid = world.campaign()
    cid, pid, _ = ids
    checks = [
        (world.send_event(blocked), "publisher_not_allowed"),
        (world.send_event(listed), "publisher_not_allowed"),
        (world.send_event((cid, pid, other_sid)), "slot_mismatch"),
    ]
    for ev, reason in checks:
        assert rejection(world, ev["event_id"])["reason"] == reason


def test_a_budget_for_exactly_k_events_accepts_exactly_k(world: World) -> None:
    k = 7
    ids = world.campaign(budget=k * 0.0025, price=2.5, pricing_model="cpm")
    events = [world.send_event(ids) for _ in range(k + 3)]
    outcomes = [world.outcome(ev["event_id"]) for ev in events]
    assert [kind for kind, _ in outcomes] == ["accepted"] * k + ["rejected"] * 3
    assert outcomes[k - 1][1].json()["budget_remaining"] == 0.0
    assert {r.json()["reason"] for _, r in outcomes[k:]} == {"budget_exhausted"}
    # free events (a click under CPM) still pass once the budget is spent
    click = world.send_event(ids, type="click")
    assert world.outcome(click["event_id"])[0] == "accepted"


def dlq_record_for(world: World, meta) -> ConsumedRecord:  # noqa: ANN001
    return world.kafka.wait_for(
        world.topics.topic_dlq,
        lambda r: r.headers["dlq.partition"] == str(meta.partition).encode()
        and r.headers["dlq.offset"] == str(meta.offset).encode(),
    )[0]


@pytest.mark.parametrize(
    ("reason", "value"),
    [
        ("malformed", b"{not json"),
        ("malformed", b'{"event_id": "\xff\xfe"}'),
        ("malformed", b"[1, 2, 3]"),
        ("schema", orjson.dumps({"event_id": "e-1", "type": "impression"})),
        ("schema", orjson.dumps(factories.event("c", "p", "s", type="hover"))),
        ("oversized", orjson.dumps(factories.event("c", "p", "s", url="x" * 70_000))),
    ],
)
def test_poison_goes_to_the_dlq_with_original_bytes_and_headers(world: World, reason: str, value: bytes) -> None:
    meta = world.kafka.send(world.topics.topic_raw, value, key=b"poison-key", headers=[("origin", b"test")])
    dead = dlq_record_for(world, meta)
    assert dead.value == value
    assert dead.key == b"poison-key"
    assert dead.headers["origin"] == b"test"
    assert dead.headers["dlq.reason"] == reason.encode()
    assert dead.headers["dlq.topic"] == world.topics.topic_raw.encode()
    assert dead.headers["dlq.stage"] == b"decode"
    assert dead.headers["dlq.error"]
    assert abs(int(dead.headers["dlq.at"]) - factories.now_ms()) < 60_000


def test_poison_between_valid_events_does_not_stall_the_partition(world: World) -> None:
    ids = world.campaign()
    poison = [b"\x00\x01garbage", b"{}", b"null", orjson.dumps({"event_id": ""})]
    valid = []
    for bad in poison:
        valid.append(world.send_event(ids))
        world.kafka.send(world.topics.topic_raw, bad, key=ids[0])
    valid.append(world.send_event(ids))
    outcomes = [world.outcome(ev["event_id"]) for ev in valid]
    assert [kind for kind, _ in outcomes] == ["accepted"] * len(valid)
    offsets = [record.offset for _, record in outcomes]
    assert offsets == sorted(offsets), "events after poison came out of order"
    dead = [r for r in world.kafka.read(world.topics.topic_dlq) if r.value in poison]
    assert sorted(r.value for r in dead) == sorted(poison)
