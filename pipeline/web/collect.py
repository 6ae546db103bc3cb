"""HTTP ingest, the pure part: a pixel request or a POST body becomes raw-event records.

No Faust, no Kafka: ``pipeline.web.ingest`` is the glue. Validation is the pipeline's job, so
what is sent is written as sent (a malformed line reaches the DLQ with its original bytes); the
only refusals here are the size limits, which hold before anything is written.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

import orjson

from pipeline.domain.enrich import RECEIVED_AT

#: A raw-event record an ingest request writes: (key = campaign_id bytes or None, value = the event's JSON bytes).
IngestRecord = tuple[bytes | None, bytes]

#: A 1x1 transparent GIF89a (43 bytes): palette black/white, graphic control extension marks index 0 transparent.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00"
    b"\x02\x02D\x01\x00;"
)

#: Pixel query parameter -> raw-event field.
PIXEL_PARAMS = (("e", "event_id"), ("type", "type"), ("c", "campaign_id"), ("p", "publisher_id"), ("s", "slot_id"))
NDJSON = "application/x-ndjson"
_MAX_TS_DIGITS = 18  # fits a signed 64-bit integer, which JSON encoders and Kafka consumers all read


class Refusal(enum.Enum):
    """Why a request is refused before anything is written."""

    BODY_TOO_LARGE = "body_too_large"
    BATCH_TOO_LARGE = "batch_too_large"
    EVENT_TOO_LARGE = "event_too_large"
    EMPTY = "empty"


@dataclasses.dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal
    detail: str


@dataclasses.dataclass(frozen=True, slots=True)
class IngestLimits:
    max_body_bytes: int
    max_batch: int
    max_event_bytes: int


def parse_ts(value: str) -> int | str:
    """An integer if ``value`` is one written plainly (ASCII digits, optional minus), else the string as sent."""
    digits = value[1:] if value[:1] == "-" else value
    if digits.isascii() and digits.isdigit() and len(digits) <= _MAX_TS_DIGITS:
        return int(value)
    return value


def pixel_event(
    query: Mapping[str, str], user_agent: str | None, ip: str | None, referer: str | None, received_at: int
) -> dict[str, Any]:
    """The raw event of a pixel request; a parameter that was not sent is left out, not defaulted.

    Except ``ts``: a pixel rarely carries the client's clock, so without one the event happened when it was received.
    """
    event: dict[str, Any] = {}
    for param, name in PIXEL_PARAMS:
        value = query.get(param)
        if value is not None:
            event[name] = value
    ts = query.get("ts")
    event["ts"] = received_at if ts is None else parse_ts(ts)
    if user_agent is not None:
        event["user_agent"] = user_agent
    if ip is not None:
        event["ip"] = ip
    if referer is not None:
        event["url"] = referer
    return event


def pixel_record(event: dict[str, Any], max_event_bytes: int) -> IngestRecord | Refused:
    try:
        value = orjson.dumps(event)
    except orjson.JSONEncodeError:
        # A header with bytes that are not UTF-8 arrives as lone surrogates, which JSON cannot carry.
        value = orjson.dumps({k: _utf8(v) if type(v) is str else v for k, v in event.items()})
    if len(value) > max_event_bytes:
        return Refused(Refusal.EVENT_TOO_LARGE, f"the event is {len(value)} bytes, over the limit of {max_event_bytes}")
    campaign_id = event.get("campaign_id")
    return (campaign_id.encode() if campaign_id else None), value


def _utf8(value: str) -> str:
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def ingest_headers(received_at: int, traceparent: list[tuple[str, bytes]] | None) -> list[tuple[str, bytes]]:
    """The Kafka headers of every record of one request: when it was received, and its trace context if any."""
    return [(RECEIVED_AT, str(received_at).encode()), *(traceparent or ())]


def is_ndjson(content_type: str, body: bytes) -> bool:
    """NDJSON when declared so, or when the body has several lines and is not one (pretty-printed) JSON value."""
    if content_type.lower() == NDJSON:
        return True
    if body.strip().find(b"\n") < 0:
        return False
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return True
    return False


def batch_records(body: bytes, ndjson: bool, limits: IngestLimits) -> list[IngestRecord] | Refused:
    """The records of a POST body: each non-empty line (or the whole body) as its own bytes, keyed by campaign."""
    if len(body) > limits.max_body_bytes:
        return Refused(Refusal.BODY_TOO_LARGE, f"the body is over the limit of {limits.max_body_bytes} bytes")
    events: list[bytes] = []
    for line in body.split(b"\n") if ndjson else (body,):
        line = line.strip()  # JSON-insignificant whitespace, and the \r of CRLF line ends
        if not line:
            continue
        if len(line) > limits.max_event_bytes:
            return Refused(
                Refusal.EVENT_TOO_LARGE,
                f"event {len(events) + 1} is {len(line)} bytes, over the limit of {limits.max_event_bytes}",
            )
        events.append(line)
        if len(events) > limits.max_batch:
            return Refused(Refusal.BATCH_TOO_LARGE, f"more than {limits.max_batch} events in one request")
    if not events:
        return Refused(Refusal.EMPTY, "no event in the body")
    return [(campaign_key(line), line) for line in events]


def campaign_key(line: bytes) -> bytes | None:
    """The campaign_id of a line that is a JSON object with a non-empty string campaign_id, else None."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    campaign_id = event.get("campaign_id") if type(event) is dict else None
    return campaign_id.encode() if type(campaign_id) is str and campaign_id else None
