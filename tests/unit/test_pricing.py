"""Money: what one event costs, in exact integer micros."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.domain.pricing import MICROS, cost_micros, from_micros, to_micros
from pipeline.domain.rules import Accepted, Limits, Lookups, evaluate
from tests import factories

NOW = 1_767_225_600_000


@pytest.mark.parametrize(
    ("event_type", "model", "cost"),
    [
        ("impression", "cpm", 2_500),
        ("impression", "cpc", 0),
        ("impression", "cpa", 0),
        ("click", "cpm", 0),
        ("click", "cpc", 2_500_000),
        ("click", "cpa", 0),
        ("conversion", "cpm", 0),
        ("conversion", "cpc", 0),
        ("conversion", "cpa", 2_500_000),
    ],
)
def test_only_the_event_type_a_pricing_model_charges_for_costs_anything(event_type: str, model: str, cost: int) -> None:
    assert cost_micros(event_type, model, 2.5) == cost


@pytest.mark.parametrize(
    ("event_type", "model", "price", "cost"),
    [
        ("impression", "cpm", 4.5, 4_500),
        ("impression", "cpm", 4.35, 4_350),
        ("impression", "cpm", 0.001, 1),
        ("click", "cpc", 0.85, 850_000),
        ("click", "cpc", 0.1, 100_000),
        ("conversion", "cpa", 12.0, 12_000_000),
        ("conversion", "cpa", 19.99, 19_990_000),
        ("click", "cpc", 0, 0),
        ("impression", "cpm", 0.0, 0),
    ],
)
def test_cost_is_the_price_in_micros_per_event(event_type: str, model: str, price: float, cost: int) -> None:
    assert cost_micros(event_type, model, price) == cost


def test_an_unknown_event_type_or_model_costs_nothing() -> None:
    assert cost_micros("view", "cpm", 2.5) == 0
    assert cost_micros("impression", "cpv", 2.5) == 0


def test_amounts_convert_between_units_and_micros() -> None:
    assert MICROS == 1_000_000
    assert to_micros(2.5) == 2_500_000
    assert to_micros(0.0000015) == 2  # rounded to the nearest micro
    assert to_micros(0.1 + 0.2) == 300_000  # float noise does not leak into micros
    assert from_micros(2_500) == 0.0025
    assert from_micros(0) == 0.0


CHARGED = [("impression", "cpm", 1000), ("click", "cpc", 1), ("conversion", "cpa", 1)]


# Prices of up to 3 decimals: every charged event, a CPM impression too, costs whole micros.
@given(
    charged=st.sampled_from(CHARGED),
    price_thousandths=st.integers(min_value=1, max_value=10_000_000),
)
def test_cost_of_a_price_with_whole_micros_per_event_is_exact(charged: tuple[str, str, int], price_thousandths: int) -> None:
    event_type, model, divisor = charged
    price = Decimal(price_thousandths) / 1000
    assert cost_micros(event_type, model, float(price)) == price * MICROS / divisor


def spend_until_exhausted(event_type: str, model: str, price: float, budget_micros: int, limit: int) -> int:
    """How many of ``limit`` events the rules accept, charging each, from a budget of ``budget_micros``."""
    campaign = factories.campaign_data(start_ts=NOW - 1000, pricing_model=model, price=price)
    publisher, slot = factories.publisher_data(), factories.slot_data("pub-1")
    spent = 0
    lookups = Lookups(
        seen=lambda _: False,
        campaign=lambda _: campaign,
        publisher=lambda _: publisher,
        slot=lambda _: slot,
        remaining_micros=lambda _: budget_micros - spent,
    )
    accepted = 0
    for n in range(limit):
        ev = factories.event("cmp-1", "pub-1", "slot-1", event_id=f"ev-{n}", ts=NOW, type=event_type)
        verdict = evaluate(ev, NOW, Limits(1000, 1000), lookups)
        if isinstance(verdict, Accepted):
            accepted += 1
            spent += verdict.cost_micros
    return accepted


@given(
    charged=st.sampled_from(CHARGED),
    price=st.floats(min_value=0.001, max_value=1e6),  # from a micro per CPM impression up
    k=st.integers(min_value=0, max_value=40),
)
def test_a_budget_of_k_times_the_cost_accepts_exactly_k_events(charged: tuple[str, str, int], price: float, k: int) -> None:
    event_type, model, _ = charged
    cost = cost_micros(event_type, model, price)
    assert spend_until_exhausted(event_type, model, price, k * cost, limit=k + 3) == k
    assert spend_until_exhausted(event_type, model, price, k * cost - 1, limit=k + 3) == max(k - 1, 0)


@given(
    charged=st.sampled_from(CHARGED),
    price_cents=st.integers(min_value=1, max_value=1_000_000),  # up to 10,000.00
    k=st.integers(min_value=1, max_value=100_000),  # budgets up to 1e9: micros stay below 2**53
)
def test_a_budget_total_written_as_k_times_the_price_is_exactly_k_costs_in_micros(
    charged: tuple[str, str, int], price_cents: int, k: int
) -> None:
    """The back office writes the budget total as a decimal number; it parses to k costs exactly."""
    event_type, model, divisor = charged
    price = Decimal(price_cents) / 100
    total = float(k * price / divisor)  # the nearest float to the exact decimal total, as JSON parses it
    assert to_micros(total) == k * cost_micros(event_type, model, float(price))
