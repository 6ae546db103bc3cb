"""Builders of valid core data and events; each test overrides only what it is about."""

from __future__ import annotations

import time
import uuid
from typing import Any

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
HOUR_MS = 3_600_000


def now_ms() -> int:
    return int(time.time() * 1000)


def campaign_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Spring Sale",
        "advertiser_id": "adv-acme",
        "advertiser_name": "Acme Outdoor",
        "status": "active",
        "start_ts": now_ms() - 30 * 24 * HOUR_MS,
        "end_ts": None,
        "pricing_model": "cpm",
        "price": 2.5,
        "publishers": None,
    }
    return {**data, **overrides}


def publisher_data(**overrides: Any) -> dict[str, Any]:
    return {"name": "Daily Ledger", "domain": "dailyledger.example", "status": "active", **overrides}


def slot_data(publisher_id: str, **overrides: Any) -> dict[str, Any]:
    return {"publisher_id": publisher_id, "format": "banner", "width": 300, "height": 250, **overrides}


def update(entity: str, id_: str, version: int, data: dict[str, Any] | None = None, op: str = "upsert") -> dict:
    return {"entity": entity, "op": op, "id": id_, "version": version, "data": data}


def event(campaign_id: str, publisher_id: str, slot_id: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "event_id": uuid.uuid4().hex,
        "type": "impression",
        "ts": now_ms(),
        "campaign_id": campaign_id,
        "publisher_id": publisher_id,
        "slot_id": slot_id,
        "user_agent": BROWSER_UA,
        "ip": "203.0.113.7",
        "url": "https://dailyledger.example/story",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not ...}
