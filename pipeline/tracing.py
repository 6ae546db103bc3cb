"""W3C trace context: carry a trace id from the raw message into the enriched record."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

_TRACEPARENT = re.compile(rb"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
_INVALID_TRACE_ID = b"0" * 32


def trace_id(headers: Iterable[tuple[str, bytes]] | None) -> str:
    """The trace-id of a valid ``traceparent`` header, or a new random one."""
    for name, value in headers or ():
        if name.lower() == "traceparent" and value:
            # W3C trace context: upper-case hex makes the header invalid; it is not to be repaired.
            match = _TRACEPARENT.match(value.strip())
            if match and match.group(1) != _INVALID_TRACE_ID:
                return match.group(1).decode()
    # Not a secret, only unique: the PRNG spares a system call per event.
    return f"{random.getrandbits(128):032x}"
