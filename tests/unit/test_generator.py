"""Generated test traffic: repeatable, in the asked proportions, realistic, and every item lands in the
bucket it names when the real decoder and rules judge it against the sample core data."""

from __future__ import annotations

import dataclasses
import ipaddress
import random
import re
from collections import Counter
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from config.settings import Settings
from pipeline.cli.loader import read_updates
from pipeline.domain.bots import is_bot
from pipeline.domain.errors import PoisonError
from pipeline.domain.events import decode_event
from pipeline.domain.pricing import to_micros
from pipeline.domain.rules import Accepted, Limits, Lookups, Reason, evaluate
from pipeline.domain.tracing import trace_id
from pipeline.sim.generator import BUCKETS, INVALID, SAMPLE_CORE_DATA, Generated, NoTrafficError, generate
from pipeline.sim.traffic import BROWSERS
from tests import factories

NOW = 1_780_000_000_000  # 2026-05-28: inside the flights of the sample's active campaigns
SAMPLE = read_updates(SAMPLE_CORE_DATA)
SETTINGS = Settings()


def stream(
    count: int, seed: int = 1, invalid_ratio: float = 0.3, updates: list[dict[str, Any]] = SAMPLE,
    settings: Settings = SETTINGS,
) -> list[Generated]:
    return list(islice(generate(updates, random.Random(seed), invalid_ratio, lambda: NOW, settings), count))


class Judge:
    """The real decoder and rules over dicts built from core-data updates, with the agent's state:
    the event ids accepted so far (dedupe) and the spend per campaign (budget)."""

    def __init__(self, updates: list[dict[str, Any]], settings: Settings = SETTINGS) -> None:
        data = {e: {u["id"]: u["data"] for u in updates if u["entity"] == e} for e in ("campaign", "publisher", "slot")}
        budgets = {u["id"]: to_micros(u["data"]["total"]) for u in updates if u["entity"] == "budget"}
        self.settings = settings
        self.limits = Limits(settings.dedupe_window_s * 1000, settings.max_clock_skew_s * 1000)
        self.seen: set[str] = set()
        self.spent: Counter[str] = Counter()
        self.lookups = Lookups(
            seen=self.seen.__contains__,
            campaign=data["campaign"].get,
            publisher=data["publisher"].get,
            slot=data["slot"].get,
            remaining_micros=lambda c: budgets[c] - self.spent[c] if c in budgets else None,
        )

    def outcome(self, item: Generated) -> str:
        try:
            event = decode_event(item.value, self.settings.max_event_bytes)
        except PoisonError as exc:
            return f"dlq:{exc.reason}"
        verdict = evaluate(event, NOW, self.limits, self.lookups)
        if not isinstance(verdict, Accepted):
            return verdict.reason.value
        self.seen.add(event["event_id"])
        self.spent[event["campaign_id"]] += verdict.cost_micros
        return "accepted"


def assert_each_lands_where_expected(items: list[Generated], judge: Judge) -> None:
    for n, item in enumerate(items):
        assert judge.outcome(item) == item.expected, f"item {n}: {item}"


def test_the_same_seed_repeats_the_stream_exactly() -> None:
    assert stream(500, seed=42) == stream(500, seed=42)
    assert stream(500, seed=42) != stream(500, seed=43)


@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.5, 1.0])
def test_the_invalid_share_is_the_asked_ratio_within_tolerance(ratio: float) -> None:
    items = stream(4000, invalid_ratio=ratio)
    invalid = sum(item.expected != "accepted" for item in items) / len(items)
    assert abs(invalid - ratio) < 0.03


def test_every_invalid_kind_appears_when_some_events_are_invalid() -> None:
    kinds = Counter(item.expected for item in stream(500, seed=7, invalid_ratio=0.2))
    assert set(kinds) == {"accepted", *INVALID}
    assert set(INVALID) == set(BUCKETS) - {"accepted", Reason.BUDGET_EXHAUSTED.value}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_item_lands_in_the_bucket_it_names_under_the_real_rules(seed: int) -> None:
    assert_each_lands_where_expected(stream(3000, seed=seed, invalid_ratio=0.3), Judge(SAMPLE))


def test_valid_events_look_like_browser_traffic_on_the_publisher_site() -> None:
    domains = {u["id"]: u["data"]["domain"] for u in SAMPLE if u["entity"] == "publisher"}
    networks = [ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("198.51.100.0/24")]
    valid = [item for item in stream(2000, invalid_ratio=0.0)]
    events = [orjson.loads(item.value) for item in valid]
    for item, event in zip(valid, events, strict=True):
        assert item.key == event["campaign_id"].encode()
        assert event["user_agent"] in BROWSERS and not is_bot(event["user_agent"])
        assert any(ipaddress.ip_address(event["ip"]) in net for net in networks)
        assert urlsplit(event["url"]).hostname == domains[event["publisher_id"]]
        assert NOW - 10_000 <= event["ts"] <= NOW
    types = Counter(event["type"] for event in events)
    assert types["impression"] > types["click"] > types["conversion"] > 0
    assert len({event["event_id"] for event in events}) == len(events)
    assert 0 < sum("user_id" in event for event in events) < len(events)
    traced = [dict(item.headers)["traceparent"] for item in valid if item.headers]
    assert 0 < len(traced) < len(valid)
    for header in traced:
        assert re.fullmatch(rb"00-[0-9a-f]{32}-[0-9a-f]{16}-01", header)
        assert trace_id([("traceparent", header)]) == header[3:35].decode()


def test_records_are_keyed_by_the_campaign_id_they_carry() -> None:
    for item in stream(1000, invalid_ratio=0.5):
        if item.key is not None:
            assert b'"campaign_id":"' + item.key + b'"' in item.value
        else:
            assert item.expected.startswith("dlq:")


def test_poison_comes_cut_short_not_utf8_as_an_array_and_with_every_schema_fault() -> None:
    poison = [item for item in stream(2000, invalid_ratio=1.0) if item.expected.startswith("dlq:")]
    malformed = [item.value for item in poison if item.expected == "dlq:malformed"]
    assert any(value.startswith(b"[") for value in malformed)
    assert any(b"\xe9" in value for value in malformed)
    assert any(not value.endswith(b"}") and not value.startswith(b"[") for value in malformed)
    problems = set()
    for item in poison:
        if item.expected == "dlq:schema":
            with pytest.raises(PoisonError) as caught:
                decode_event(item.value, SETTINGS.max_event_bytes)
            problems.add(str(caught.value).split(" must ")[0])
    assert {"event_id", "type", "ts", "campaign_id"} <= problems


def test_bots_come_as_crawlers_and_without_a_user_agent() -> None:
    bots = [orjson.loads(item.value) for item in stream(2000) if item.expected == "bot"]
    assert any("user_agent" not in event for event in bots)
    assert any(event.get("user_agent") and is_bot(event["user_agent"]) for event in bots)


def test_a_duplicate_repeats_an_accepted_event_unchanged() -> None:
    items = stream(1000)
    accepted = {item.value: item for item in items if item.expected == "accepted"}
    duplicates = [item for item in items if item.expected == "duplicate"]
    assert duplicates
    for item in duplicates:
        assert dataclasses.replace(item, expected="accepted") == accepted[item.value]


def test_the_limits_come_from_the_settings() -> None:
    settings = dataclasses.replace(SETTINGS, max_event_bytes=4096, dedupe_window_s=3600, max_clock_skew_s=5)
    items = stream(1000, settings=settings)
    assert all(len(item.value) > 4096 for item in items if item.expected == "dlq:oversized")
    assert_each_lands_where_expected(items, Judge(SAMPLE, settings))


def test_a_kind_the_core_data_cannot_show_is_skipped() -> None:
    # Only active campaigns: nothing can be campaign_inactive; and with nothing accepted, nothing is a duplicate.
    active = [u for u in SAMPLE if not (u["entity"] == "campaign" and u["data"]["status"] != "active")]
    kinds = {item.expected for item in stream(500, invalid_ratio=0.5, updates=active)}
    assert kinds == {"accepted", *INVALID} - {Reason.CAMPAIGN_INACTIVE.value}
    kinds = {item.expected for item in stream(500, invalid_ratio=1.0)}
    assert kinds == set(INVALID) - {Reason.DUPLICATE.value}


def test_a_campaign_stops_getting_events_before_its_budget_is_exhausted() -> None:
    start = NOW - 86_400_000
    updates = [
        factories.update("publisher", "pub-a", 1, factories.publisher_data(domain="a.example")),
        factories.update("slot", "slot-a", 1, factories.slot_data("pub-a")),
        factories.update("campaign", "cmp-small", 1, factories.campaign_data(
            pricing_model="cpc", price=1.0, start_ts=start)),
        factories.update("budget", "cmp-small", 1, {"total": 3.0}),
        factories.update("campaign", "cmp-open", 1, factories.campaign_data(start_ts=start)),
    ]
    items = stream(3000, invalid_ratio=0.1, updates=updates)
    judge = Judge(updates)
    assert_each_lands_where_expected(items, judge)
    assert judge.spent["cmp-small"] == to_micros(3.0)


def test_core_data_without_a_billable_campaign_is_an_error_that_says_so() -> None:
    with pytest.raises(NoTrafficError, match="no campaign"):
        generate(SAMPLE, random.Random(1), 0.1, lambda: 1_600_000_000_000)  # 2020: before every flight


def test_an_invalid_ratio_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid_ratio"):
        generate(SAMPLE, random.Random(1), 1.5, lambda: NOW)
