"""Business rules: is a well-formed raw event billable?

Rejection is data: ``evaluate`` returns ``Accepted`` or ``Rejection`` and never raises for a
rule. The first failing rule wins, in the order of ``Reason``. Core data and state are read
through plain callables so the rules run the same on Faust tables and on dicts in tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum
from typing import Any, NamedTuple

from pipeline.domain.bots import is_bot
from pipeline.domain.pricing import cost_micros

Data = dict[str, Any]  # a JSON object: a raw event, or the data of a campaign, publisher or slot


class Reason(str, Enum):
    DUPLICATE = "duplicate"
    FUTURE_EVENT = "future_event"
    STALE_EVENT = "stale_event"
    BOT = "bot"
    UNKNOWN_CAMPAIGN = "unknown_campaign"
    CAMPAIGN_INACTIVE = "campaign_inactive"
    UNKNOWN_PUBLISHER = "unknown_publisher"
    PUBLISHER_NOT_ALLOWED = "publisher_not_allowed"
    UNKNOWN_SLOT = "unknown_slot"
    SLOT_MISMATCH = "slot_mismatch"
    BUDGET_EXHAUSTED = "budget_exhausted"


@dataclasses.dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    detail: str


class Accepted(NamedTuple):  # a named tuple: one is made per accepted event, on the hot path
    campaign: Data
    publisher: Data
    slot: Data
    cost_micros: int


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    dedupe_window_ms: int
    max_clock_skew_ms: int


@dataclasses.dataclass(frozen=True, slots=True)
class Lookups:
    """Read access to state and core data; each returns None for 'not there'."""

    seen: Callable[[str], bool]
    campaign: Callable[[str], Data | None]
    publisher: Callable[[str], Data | None]
    slot: Callable[[str], Data | None]
    remaining_micros: Callable[[str], int | None]  # None: the campaign has no budget limit


def evaluate(event: Data, now_ms: int, limits: Limits, lookups: Lookups) -> Accepted | Rejection:
    event_id: str = event["event_id"]
    ts: int = event["ts"]
    if lookups.seen(event_id):
        return Rejection(Reason.DUPLICATE, f"event_id {event_id!r} was already accepted")
    if ts > now_ms + limits.max_clock_skew_ms:
        return Rejection(Reason.FUTURE_EVENT, f"ts is {ts - now_ms} ms ahead of now")
    if ts < now_ms - limits.dedupe_window_ms:
        return Rejection(Reason.STALE_EVENT, f"ts is {now_ms - ts} ms old, beyond the dedupe window")
    if is_bot(event.get("user_agent")):
        return Rejection(Reason.BOT, f"user_agent {event.get('user_agent')!r} is a bot or missing")

    campaign_id: str = event["campaign_id"]
    campaign = lookups.campaign(campaign_id)
    if campaign is None:
        return Rejection(Reason.UNKNOWN_CAMPAIGN, f"campaign {campaign_id!r} does not exist")
    if campaign["status"] != "active":
        return Rejection(Reason.CAMPAIGN_INACTIVE, f"campaign {campaign_id!r} is {campaign['status']}")
    end_ts = campaign.get("end_ts")
    if ts < campaign["start_ts"] or (end_ts is not None and ts >= end_ts):
        return Rejection(Reason.CAMPAIGN_INACTIVE, f"ts {ts} is outside campaign {campaign_id!r}'s flight")

    publisher_id: str = event["publisher_id"]
    publisher = lookups.publisher(publisher_id)
    if publisher is None:
        return Rejection(Reason.UNKNOWN_PUBLISHER, f"publisher {publisher_id!r} does not exist")
    if publisher["status"] == "blocked":
        return Rejection(Reason.PUBLISHER_NOT_ALLOWED, f"publisher {publisher_id!r} is blocked")
    allowed = campaign.get("publishers")
    if allowed is not None and publisher_id not in allowed:
        return Rejection(
            Reason.PUBLISHER_NOT_ALLOWED, f"publisher {publisher_id!r} is not on campaign {campaign_id!r}'s list"
        )

    slot_id: str = event["slot_id"]
    slot = lookups.slot(slot_id)
    if slot is None:
        return Rejection(Reason.UNKNOWN_SLOT, f"slot {slot_id!r} does not exist")
    if slot["publisher_id"] != publisher_id:
        return Rejection(Reason.SLOT_MISMATCH, f"slot {slot_id!r} belongs to publisher {slot['publisher_id']!r}")

    cost = cost_micros(event["type"], campaign["pricing_model"], campaign["price"])
    remaining = lookups.remaining_micros(campaign_id)
    # max(): a budget lowered below its spend leaves remaining < 0; zero-cost events still pass.
    if remaining is not None and cost > max(remaining, 0):
        return Rejection(
            Reason.BUDGET_EXHAUSTED, f"cost {cost} micros exceeds remaining budget {max(remaining, 0)} micros"
        )
    return Accepted(campaign, publisher, slot, cost)
