"""JSON on the wire: every message adtrack reads is a UTF-8 JSON object."""

from __future__ import annotations

from typing import Any

import orjson

from pipeline.domain.errors import MalformedError


def decode_object(value: bytes | None) -> dict[str, Any]:
    """The JSON object in ``value``, or ``MalformedError`` saying why there is none."""
    if value is None:
        raise MalformedError("no value (tombstone)")
    try:
        decoded = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise MalformedError(f"not UTF-8 JSON: {exc}") from None
    if type(decoded) is not dict:
        raise MalformedError(f"expected a JSON object, got {type(decoded).__name__}")
    return decoded
