"""The raw tracking event: decoding and schema checks.

A raw event is kept as the plain dict JSON gives us; unknown fields pass through.
"""

from __future__ import annotations

from typing import Any

import orjson

from pipeline.domain.codec import decode_object
from pipeline.domain.errors import OversizedError, SchemaError

EVENT_TYPES = frozenset({"impression", "click", "conversion"})
REQUIRED_IDS = ("campaign_id", "publisher_id", "slot_id")
OPTIONAL_STRINGS = ("user_agent", "ip", "url", "user_id")
MAX_EVENT_ID_CHARS = 64
#: Longest campaign, publisher or slot id (core data has the same limit). Ids are hashed, cached and
#: counted per event, so their length bounds what one event costs.
MAX_ID_CHARS = 256


def decode_event(value: bytes | None, max_bytes: int) -> dict[str, Any]:
    """Decode and check one raw event, or raise the ``PoisonError`` that says why not."""
    if value is not None and len(value) > max_bytes:
        raise OversizedError(f"{len(value)} bytes is over the limit of {max_bytes}")
    event = decode_object(value)
    check_schema(event)
    return event


def check_schema(event: dict[str, Any]) -> None:
    event_id = event.get("event_id")
    if type(event_id) is not str or not 1 <= len(event_id) <= MAX_EVENT_ID_CHARS:
        raise SchemaError(f"event_id must be a string of 1-{MAX_EVENT_ID_CHARS} characters")
    event_type = event.get("type")
    # A str check first: an unhashable value (list, object) would make the set lookup raise TypeError.
    if type(event_type) is not str or event_type not in EVENT_TYPES:
        raise SchemaError(f"type must be one of {sorted(EVENT_TYPES)}")
    if type(event.get("ts")) is not int:
        raise SchemaError("ts must be an integer (epoch milliseconds)")
    for name in REQUIRED_IDS:
        value = event.get(name)
        if type(value) is not str or not value:
            raise SchemaError(f"{name} must be a non-empty string")
        if len(value) > MAX_ID_CHARS:
            raise SchemaError(f"{name} is over {MAX_ID_CHARS} characters")
    for name in OPTIONAL_STRINGS:
        value = event.get(name)
        if value is not None and type(value) is not str:
            raise SchemaError(f"{name} must be a string when present")


def peek_event_id(value: bytes | None) -> str | None:
    """Best-effort event id of a message that failed to decode, for error logs."""
    if not value or len(value) > 1_000_000:
        return None
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if isinstance(event, dict) and isinstance(event.get("event_id"), str):
        return event["event_id"][:MAX_EVENT_ID_CHARS]
    return None
