"""Business rules: which well-formed events are billable, and why not."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from pipeline.domain.rules import Accepted, Limits, Lookups, Reason, Rejection, evaluate
from tests import factories

NOW = 1_767_225_600_000
DAY_MS = 24 * factories.HOUR_MS
WINDOW_MS = DAY_MS
SKEW_MS = 300_000
LIMITS = Limits(dedupe_window_ms=WINDOW_MS, max_clock_skew_ms=SKEW_MS)
BOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@dataclass
class Data:
    """Core data and state behind dict-backed lookups; each test changes what it is about."""

    seen: set[str] = field(default_factory=set)
    campaigns: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"cmp-1": factories.campaign_data(start_ts=NOW - 30 * DAY_MS)}
    )
    publishers: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"pub-1": factories.publisher_data(), "pub-2": factories.publisher_data(name="Other")}
    )
    slots: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"slot-1": factories.slot_data("pub-1"), "slot-2": factories.slot_data("pub-2")}
    )
    budgets: dict[str, int] = field(default_factory=dict)  # campaign id -> remaining micros; absent: no limit

    def lookups(self) -> Lookups:
        return Lookups(
            seen=lambda event_id: event_id in self.seen,
            campaign=self.campaigns.get,
            publisher=self.publishers.get,
            slot=self.slots.get,
            remaining_micros=self.budgets.get,
        )

    def evaluate(self, event: dict[str, Any], now: int = NOW) -> Accepted | Rejection:
        return evaluate(event, now, LIMITS, self.lookups())


def event(**overrides: Any) -> dict[str, Any]:
    """A valid event of cmp-1 on pub-1's slot-1 at NOW; an override of ``...`` removes the field."""
    ev = factories.event("cmp-1", "pub-1", "slot-1", event_id="ev-1", ts=NOW)
    ev.update(overrides)
    return {k: v for k, v in ev.items() if v is not ...}


def reason(verdict: Accepted | Rejection) -> Reason | None:
    return verdict.reason if isinstance(verdict, Rejection) else None


def test_a_valid_event_is_accepted_with_its_core_data_and_cost() -> None:
    data = Data()
    verdict = data.evaluate(event())
    assert verdict == Accepted(data.campaigns["cmp-1"], data.publishers["pub-1"], data.slots["slot-1"], 2500)
    assert verdict.campaign is data.campaigns["cmp-1"]


def test_reason_values_are_the_strings_written_to_the_rejected_topic() -> None:
    assert [r.value for r in Reason] == [
        "duplicate", "future_event", "stale_event", "bot", "unknown_campaign", "campaign_inactive",
        "unknown_publisher", "publisher_not_allowed", "unknown_slot", "slot_mismatch", "budget_exhausted",
    ]


# -- order: the first failing rule wins, in the order of Reason


def test_an_event_failing_every_rule_is_rejected_for_each_reason_in_order_as_the_rules_are_fixed() -> None:
    data = Data(seen={"ev-1"}, campaigns={}, publishers={}, slots={}, budgets={"cmp-1": 0})
    ev = event(ts=NOW + SKEW_MS + 1, user_agent=None)
    fixes = [
        lambda: data.seen.clear(),
        lambda: ev.update(ts=NOW - WINDOW_MS - 1),
        lambda: ev.update(ts=NOW),
        lambda: ev.update(user_agent=factories.BROWSER_UA),
        lambda: data.campaigns.update({"cmp-1": factories.campaign_data(start_ts=NOW - DAY_MS, status="paused")}),
        lambda: data.campaigns["cmp-1"].update(status="active"),
        lambda: data.publishers.update({"pub-1": factories.publisher_data(status="blocked")}),
        lambda: data.publishers["pub-1"].update(status="active"),
        lambda: data.slots.update({"slot-1": factories.slot_data("pub-2")}),
        lambda: data.slots["slot-1"].update(publisher_id="pub-1"),
        lambda: data.budgets.update({"cmp-1": 2500}),
    ]
    reasons = []
    for fix in fixes:
        reasons.append(reason(data.evaluate(ev)))
        fix()
    assert reasons == list(Reason)
    assert isinstance(data.evaluate(ev), Accepted)


@pytest.mark.parametrize(
    ("first", "second", "breaks"),
    [
        (Reason.DUPLICATE, Reason.BOT, {"seen": True, "user_agent": BOT_UA}),
        (Reason.DUPLICATE, Reason.FUTURE_EVENT, {"seen": True, "ts": NOW + SKEW_MS + 1}),
        (Reason.DUPLICATE, Reason.STALE_EVENT, {"seen": True, "ts": NOW - WINDOW_MS - 1}),
        (Reason.FUTURE_EVENT, Reason.BOT, {"ts": NOW + SKEW_MS + 1, "user_agent": None}),
        (Reason.STALE_EVENT, Reason.BOT, {"ts": NOW - WINDOW_MS - 1, "user_agent": ""}),
        (Reason.BOT, Reason.UNKNOWN_CAMPAIGN, {"user_agent": "curl/8.5.0", "campaign_id": "cmp-x"}),
        (Reason.UNKNOWN_CAMPAIGN, Reason.UNKNOWN_PUBLISHER, {"campaign_id": "cmp-x", "publisher_id": "pub-x"}),
        (Reason.CAMPAIGN_INACTIVE, Reason.UNKNOWN_PUBLISHER, {"status": "ended", "publisher_id": "pub-x"}),
        (Reason.UNKNOWN_PUBLISHER, Reason.UNKNOWN_SLOT, {"publisher_id": "pub-x", "slot_id": "slot-x"}),
        (Reason.PUBLISHER_NOT_ALLOWED, Reason.SLOT_MISMATCH, {"publishers": ["pub-2"], "slot_id": "slot-2"}),
        (Reason.UNKNOWN_SLOT, Reason.BUDGET_EXHAUSTED, {"slot_id": "slot-x", "budget": 0}),
        (Reason.SLOT_MISMATCH, Reason.BUDGET_EXHAUSTED, {"slot_id": "slot-2", "budget": 0}),
    ],
    ids=lambda v: v.value if isinstance(v, Reason) else "+".join(v),
)
def test_an_event_failing_two_rules_is_rejected_for_the_earlier_one(
    first: Reason, second: Reason, breaks: dict[str, Any]
) -> None:
    data = Data()
    breaks = dict(breaks)
    if breaks.pop("seen", False):
        data.seen.add("ev-1")
    if "budget" in breaks:
        data.budgets["cmp-1"] = breaks.pop("budget")
    for name in ("status", "publishers"):
        if name in breaks:
            data.campaigns["cmp-1"][name] = breaks.pop(name)
    assert list(Reason).index(first) < list(Reason).index(second)
    assert reason(data.evaluate(event(**breaks))) == first


# -- each rule, with its detail


def test_an_event_id_accepted_before_is_a_duplicate() -> None:
    data = Data(seen={"ev-1"})
    assert data.evaluate(event()) == Rejection(Reason.DUPLICATE, "event_id 'ev-1' was already accepted")


def test_another_event_id_is_not_a_duplicate() -> None:
    assert isinstance(Data(seen={"ev-2"}).evaluate(event()), Accepted)


def test_ts_exactly_max_clock_skew_ahead_is_accepted() -> None:
    assert isinstance(Data().evaluate(event(ts=NOW + SKEW_MS)), Accepted)


def test_ts_one_ms_beyond_max_clock_skew_is_a_future_event() -> None:
    verdict = Data().evaluate(event(ts=NOW + SKEW_MS + 1))
    assert verdict == Rejection(Reason.FUTURE_EVENT, "ts is 300001 ms ahead of now")


def test_ts_exactly_the_dedupe_window_old_is_accepted() -> None:
    assert isinstance(Data().evaluate(event(ts=NOW - WINDOW_MS)), Accepted)


def test_ts_one_ms_older_than_the_dedupe_window_is_stale() -> None:
    verdict = Data().evaluate(event(ts=NOW - WINDOW_MS - 1))
    assert verdict == Rejection(Reason.STALE_EVENT, "ts is 86400001 ms old, beyond the dedupe window")


@pytest.mark.parametrize("user_agent", [..., None, "", "   ", BOT_UA, "python-requests/2.32.3"])
def test_a_missing_or_bot_user_agent_is_rejected_as_bot(user_agent: Any) -> None:
    verdict = Data().evaluate(event(user_agent=user_agent))
    shown = None if user_agent is ... else user_agent
    assert verdict == Rejection(Reason.BOT, f"user_agent {shown!r} is a bot or missing")


def test_an_unknown_campaign_is_rejected() -> None:
    verdict = Data(campaigns={}).evaluate(event())
    assert verdict == Rejection(Reason.UNKNOWN_CAMPAIGN, "campaign 'cmp-1' does not exist")


@pytest.mark.parametrize("status", ["paused", "ended"])
def test_a_campaign_that_is_not_active_is_inactive(status: str) -> None:
    data = Data()
    data.campaigns["cmp-1"]["status"] = status
    assert data.evaluate(event()) == Rejection(Reason.CAMPAIGN_INACTIVE, f"campaign 'cmp-1' is {status}")


def flight(start_ts: int, end_ts: int | None) -> Data:
    data = Data()
    data.campaigns["cmp-1"].update(start_ts=start_ts, end_ts=end_ts)
    return data


def test_an_event_at_the_campaign_start_is_in_flight() -> None:
    assert isinstance(flight(NOW, NOW + 1000).evaluate(event(ts=NOW)), Accepted)


def test_an_event_one_ms_before_the_campaign_start_is_inactive() -> None:
    verdict = flight(NOW, NOW + 1000).evaluate(event(ts=NOW - 1))
    assert verdict == Rejection(Reason.CAMPAIGN_INACTIVE, f"ts {NOW - 1} is outside campaign 'cmp-1''s flight")


def test_an_event_one_ms_before_the_campaign_end_is_in_flight() -> None:
    assert isinstance(flight(NOW - 1000, NOW).evaluate(event(ts=NOW - 1)), Accepted)


def test_an_event_at_the_campaign_end_is_inactive() -> None:
    verdict = flight(NOW - 1000, NOW).evaluate(event(ts=NOW))
    assert verdict == Rejection(Reason.CAMPAIGN_INACTIVE, f"ts {NOW} is outside campaign 'cmp-1''s flight")


def test_a_campaign_without_end_ts_never_ends() -> None:
    assert isinstance(flight(NOW - 1000, None).evaluate(event(ts=NOW + SKEW_MS)), Accepted)
    data = Data()
    del data.campaigns["cmp-1"]["end_ts"]
    assert isinstance(data.evaluate(event(ts=NOW + SKEW_MS)), Accepted)


def test_an_unknown_publisher_is_rejected() -> None:
    verdict = Data().evaluate(event(publisher_id="pub-x"))
    assert verdict == Rejection(Reason.UNKNOWN_PUBLISHER, "publisher 'pub-x' does not exist")


def test_a_blocked_publisher_is_not_allowed_even_when_on_the_campaign_list() -> None:
    data = Data()
    data.publishers["pub-1"]["status"] = "blocked"
    data.campaigns["cmp-1"]["publishers"] = ["pub-1"]
    assert data.evaluate(event()) == Rejection(Reason.PUBLISHER_NOT_ALLOWED, "publisher 'pub-1' is blocked")


def with_publishers(publishers: Iterable[str] | None) -> Data:
    data = Data()
    data.campaigns["cmp-1"]["publishers"] = publishers
    return data


@pytest.mark.parametrize("publishers", [None, ["pub-1"], ["pub-2", "pub-1"], {"pub-1"}, frozenset({"pub-1", "pub-2"})])
def test_a_publisher_allowed_by_the_campaign_list_is_accepted(publishers: Iterable[str] | None) -> None:
    assert isinstance(with_publishers(publishers).evaluate(event()), Accepted)


@pytest.mark.parametrize("publishers", [[], ["pub-2"], set(), {"pub-2"}])
def test_a_publisher_missing_from_the_campaign_list_is_not_allowed(publishers: Iterable[str]) -> None:
    verdict = with_publishers(publishers).evaluate(event())
    assert verdict == Rejection(Reason.PUBLISHER_NOT_ALLOWED, "publisher 'pub-1' is not on campaign 'cmp-1''s list")


def test_an_unknown_slot_is_rejected() -> None:
    verdict = Data().evaluate(event(slot_id="slot-x"))
    assert verdict == Rejection(Reason.UNKNOWN_SLOT, "slot 'slot-x' does not exist")


def test_a_slot_of_another_publisher_is_a_mismatch() -> None:
    verdict = Data().evaluate(event(slot_id="slot-2"))
    assert verdict == Rejection(Reason.SLOT_MISMATCH, "slot 'slot-2' belongs to publisher 'pub-2'")


# -- budget


def test_a_campaign_without_a_budget_has_no_limit() -> None:
    data = Data()
    data.campaigns["cmp-1"]["price"] = 1e9
    assert data.evaluate(event()) == Accepted(
        data.campaigns["cmp-1"], data.publishers["pub-1"], data.slots["slot-1"], 1_000_000_000_000
    )


def test_cost_equal_to_the_remaining_budget_is_accepted() -> None:
    assert Data(budgets={"cmp-1": 2500}).evaluate(event()).cost_micros == 2500


def test_cost_one_micro_above_the_remaining_budget_is_budget_exhausted() -> None:
    verdict = Data(budgets={"cmp-1": 2499}).evaluate(event())
    assert verdict == Rejection(Reason.BUDGET_EXHAUSTED, "cost 2500 micros exceeds remaining budget 2499 micros")


def test_an_overspent_budget_is_reported_as_zero_remaining() -> None:
    verdict = Data(budgets={"cmp-1": -700}).evaluate(event())
    assert verdict == Rejection(Reason.BUDGET_EXHAUSTED, "cost 2500 micros exceeds remaining budget 0 micros")


@pytest.mark.parametrize("remaining", [0, -700])
def test_a_zero_cost_event_passes_a_spent_budget(remaining: int) -> None:
    verdict = Data(budgets={"cmp-1": remaining}).evaluate(event(type="click"))  # a click under CPM is free
    assert isinstance(verdict, Accepted)
    assert verdict.cost_micros == 0


def test_a_free_campaign_passes_a_zero_budget() -> None:
    data = Data(budgets={"cmp-1": 0})
    data.campaigns["cmp-1"]["price"] = 0
    assert data.evaluate(event()).cost_micros == 0


def test_the_budget_is_looked_up_by_campaign_id() -> None:
    data = Data(budgets={"cmp-2": 0})
    assert isinstance(data.evaluate(event()), Accepted)


@pytest.mark.parametrize(
    ("event_type", "model", "cost"),
    [("impression", "cpm", 2500), ("click", "cpc", 2_500_000), ("conversion", "cpa", 2_500_000),
     ("click", "cpm", 0), ("impression", "cpc", 0), ("impression", "cpa", 0)],
)
def test_the_cost_follows_the_campaign_pricing_model(event_type: str, model: str, cost: int) -> None:
    data = Data()
    data.campaigns["cmp-1"]["pricing_model"] = model
    assert data.evaluate(event(type=event_type)).cost_micros == cost
