"""W3C trace context: carry a trace id from the raw message into the enriched record.

A ``traceparent`` is valid only as the W3C Trace Context spec (level 1) reads it: lower-case hex,
version ``ff`` forbidden, trace id and parent id not all zeros, and version ``00`` exactly 55
characters. A later version may append fields after a ``-``. An invalid value is never repaired:
ingest does not forward it, and the pipeline gives the event a fresh trace id instead.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

_TRACEPARENT = re.compile(rb"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.S)
_INVALID_VERSION = b"ff"
_ZERO_TRACE_ID = b"0" * 32
_ZERO_PARENT_ID = b"0" * 16


def valid_trace_id(value: bytes) -> bytes | None:
    """The trace id of ``value`` if it is a valid traceparent (surrounding whitespace aside), else None."""
    match = _TRACEPARENT.fullmatch(value.strip(b" \t\r\n"))
    if match is None:
        return None
    version, trace, parent, _flags, rest = match.groups()
    if version == _INVALID_VERSION or trace == _ZERO_TRACE_ID or parent == _ZERO_PARENT_ID:
        return None
    if version == b"00" and rest is not None:
        return None  # version 00 has exactly four fields
    return trace


def forwarded_traceparent(value: str | None) -> list[tuple[str, bytes]] | None:
    """Kafka headers carrying an HTTP request's ``traceparent``: only a valid one is forwarded, trimmed."""
    if value is None:
        return None
    raw = value.encode("utf-8", "surrogateescape").strip(b" \t\r\n")
    if valid_trace_id(raw) is None:
        return None
    return [("traceparent", raw)]


def known_trace_id(headers: Iterable[tuple[str, bytes]] | None) -> str | None:
    """The trace-id of the first valid ``traceparent`` header, if there is one."""
    for name, value in headers or ():
        if name.lower() == "traceparent" and value:
            trace = valid_trace_id(value)
            if trace is not None:
                return trace.decode()
    return None


def trace_id(headers: Iterable[tuple[str, bytes]] | None) -> str:
    """The trace-id of the first valid ``traceparent`` header, or a new random one."""
    # Not a secret, only unique: the PRNG spares a system call per event.
    return known_trace_id(headers) or random.getrandbits(128).to_bytes(16, "big").hex()
