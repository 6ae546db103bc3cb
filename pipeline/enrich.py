"""The enriched record written to the real-time and batch topics."""

from __future__ import annotations

from typing import Any

from pipeline.pricing import from_micros
from pipeline.rules import Accepted


def enrich(
    event: dict[str, Any], accepted: Accepted, remaining_micros: int | None, processed_at: int, trace_id: str
) -> dict[str, Any]:
    campaign, publisher, slot = accepted.campaign, accepted.publisher, accepted.slot
    return {
        **event,
        "campaign": {
            "id": event["campaign_id"],
            "name": campaign["name"],
            "advertiser_id": campaign["advertiser_id"],
            "advertiser_name": campaign["advertiser_name"],
            "pricing_model": campaign["pricing_model"],
            "price": campaign["price"],
        },
        "publisher": {"id": event["publisher_id"], "name": publisher["name"], "domain": publisher["domain"]},
        "slot": {"id": event["slot_id"], "format": slot["format"], "width": slot["width"], "height": slot["height"]},
        "cost": from_micros(accepted.cost_micros),
        "budget_remaining": None if remaining_micros is None else from_micros(remaining_micros),
        "processed_at": processed_at,
        "trace_id": trace_id,
    }
