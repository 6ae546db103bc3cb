"""Realistic, billable tracking events over a core-data snapshot: the building blocks of test traffic.

Every choice is drawn from one ``random.Random``, so a seed repeats the traffic exactly.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections import Counter, deque
from typing import Any

import orjson

from config.settings import Settings
from pipeline.domain.errors import AdtrackError
from pipeline.domain.pricing import cost_micros, to_micros
from pipeline.sim.snapshot import Snapshot

ACCEPTED = "accepted"
TYPES = ("impression", "click", "conversion")
TYPE_WEIGHTS = (90, 8, 2)
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 "
    "Edg/131.0.0.0",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 "
    "EdgA/131.0.0.0",
)
NETWORKS = ("203.0.113", "198.51.100")  # documentation ranges (RFC 5737): never a real visitor
SECTIONS = ("story", "latest", "video", "gallery", "review")
USER_ID_SHARE = 0.35
TRACEPARENT_SHARE = 0.25
RECENT = 256  # accepted events a duplicate may repeat

Event = dict[str, Any]
Headers = list[tuple[str, bytes]]


@dataclasses.dataclass(frozen=True, slots=True)
class Generated:
    key: bytes | None
    value: bytes
    headers: Headers
    expected: str  # "accepted", a rules.Reason value, or "dlq:<poison reason>"


class NoTrafficError(AdtrackError):
    """No campaign in the core data can take an event now: none is active and in flight, with budget left,
    an active publisher it allows, and a slot of that publisher. Pass --core-data with an export that has one."""


class Traffic:
    """Makes events over ``snapshot`` and remembers what it accepted (spend, recent events)."""

    def __init__(self, snapshot: Snapshot, rng: random.Random, settings: Settings) -> None:
        self.snapshot = snapshot
        self.rng = rng
        self.skew_ms = settings.max_clock_skew_s * 1000
        self.window_ms = settings.dedupe_window_s * 1000
        self.max_bytes = settings.max_event_bytes
        self.spent: dict[str, int] = {}
        self.recent: deque[Generated] = deque(maxlen=RECENT)
        self._variants: Counter[str] = Counter()

    def campaigns(self, ts: int) -> list[str]:
        """Campaigns an event at ``ts`` can be accepted for; like an ad server, skip a spent budget."""
        found = [c for c in self.snapshot.billable(ts) if self._can_pay(c)]
        if not found:
            raise NoTrafficError(f"no campaign in the core data can take an event at ts {ts}")
        return found

    def _can_pay(self, campaign_id: str) -> bool:
        budget = self.snapshot.budgets.get(campaign_id)
        if budget is None:
            return True
        left = to_micros(budget["total"]) - self.spent.get(campaign_id, 0)
        return max(self._cost(campaign_id, t) for t in TYPES) <= left

    def _cost(self, campaign_id: str, event_type: str) -> int:
        campaign = self.snapshot.campaigns[campaign_id]
        return cost_micros(event_type, campaign["pricing_model"], campaign["price"])

    def event(self, now: int) -> Event:
        """A billable event: a campaign that can take it, one of its placements, a browser, seconds ago."""
        rng = self.rng
        ts = now - rng.randint(200, 5_000)
        campaign_id = rng.choice(self.campaigns(ts))
        publisher_id, slot_id = rng.choice(self.snapshot.placements[campaign_id])
        event: Event = {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "type": rng.choices(TYPES, TYPE_WEIGHTS)[0],
            "ts": ts,
            "campaign_id": campaign_id,
            "publisher_id": publisher_id,
            "slot_id": slot_id,
            "user_agent": rng.choice(BROWSERS),
            "ip": f"{rng.choice(NETWORKS)}.{rng.randint(1, 254)}",
            "url": self._url(publisher_id),
        }
        if rng.random() < USER_ID_SHARE:
            event["user_id"] = f"u-{rng.getrandbits(48):012x}"
        return event

    def accepted(self, now: int) -> Generated:
        event = self.event(now)
        campaign_id = event["campaign_id"]
        self.spent[campaign_id] = self.spent.get(campaign_id, 0) + self._cost(campaign_id, event["type"])
        item = self.item(event, ACCEPTED)
        self.recent.append(item)
        return item

    def item(self, event: Any, expected: str, value: bytes | None = None) -> Generated:
        """The record for ``event`` (or for raw ``value``), keyed by its campaign_id when it has one."""
        campaign_id = event.get("campaign_id") if isinstance(event, dict) else None
        headers: Headers = []
        if self.rng.random() < TRACEPARENT_SHARE:
            trace, span = self.rng.getrandbits(128) or 1, self.rng.getrandbits(64) or 1
            headers.append(("traceparent", f"00-{trace:032x}-{span:016x}-01".encode()))
        return Generated(
            campaign_id.encode() if isinstance(campaign_id, str) else None,
            orjson.dumps(event) if value is None else value,
            headers,
            expected,
        )

    def _url(self, publisher_id: str) -> str:
        page = f"{self.rng.choice(SECTIONS)}/{self.rng.randint(10_000, 999_999)}"
        return f"https://{self.snapshot.domain(publisher_id)}/{page}"

    def place(self, event: Event, publisher_id: str, slot_id: str | None = None) -> None:
        """Move the event to another publisher (and slot), keeping its url on that publisher's site."""
        event["publisher_id"] = publisher_id
        event["url"] = self._url(publisher_id)
        if slot_id is not None:
            event["slot_id"] = slot_id

    def unknown(self, prefix: str, known: dict[str, Any]) -> str:
        """An id like the known ones that the core data does not have."""
        while (id_ := f"{prefix}-{self.rng.getrandbits(32):08x}") in known:
            pass
        return id_

    def variant(self, kind: str, count: int) -> int:
        """The variants of a kind take turns, so that each shows up."""
        self._variants[kind] += 1
        return (self._variants[kind] - 1) % count
