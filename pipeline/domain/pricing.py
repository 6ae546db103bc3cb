"""Money: what an event costs under a campaign's pricing model.

Amounts are integer micros (1e-6 of the currency unit) so that spend adds up exactly:
a budget for exactly k events accepts exactly k.
"""

from __future__ import annotations

MICROS = 1_000_000

# (event type, pricing model) -> divisor of the price: CPM prices a thousand impressions.
_CHARGED = {("impression", "cpm"): 1000, ("click", "cpc"): 1, ("conversion", "cpa"): 1}


def to_micros(amount: float) -> int:
    return round(amount * MICROS)


def from_micros(micros: int) -> float:
    return micros / MICROS


def cost_micros(event_type: str, pricing_model: str, price: float) -> int:
    """Cost of one event: price/1000 for a CPM impression, price for a CPC click or CPA conversion, else 0."""
    divisor = _CHARGED.get((event_type, pricing_model))
    if divisor is None:
        return 0
    return round(price * MICROS / divisor)
