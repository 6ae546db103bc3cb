"""Dead-letter records: the original bytes, and headers that say what went wrong where.

A record too large to be written back whole (a raw record may be as large as the broker allows) is
cut to fit, and says so in its headers, rather than lost: every input gets an outcome.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

Headers = list[tuple[str, bytes]]

DLQ_PREFIX = "dlq."


def dlq_key(key: bytes | None, value: bytes | None) -> bytes | None:
    """The key of a dead-lettered record: the original, except for a tombstone without a key.

    Kafka allows a record with neither key nor value, but its clients cannot write one, so that
    record is dead-lettered with an empty key (its value stays null).
    """
    return b"" if key is None and value is None else key


def dlq_headers(
    original: Sequence[tuple[str, bytes]] | None,
    *,
    reason: str,
    error: str,
    topic: str,
    partition: int,
    offset: int,
    stage: str,
    at: int,
) -> Headers:
    kept = [(k, v) for k, v in (original or ()) if not k.startswith(DLQ_PREFIX)]
    return kept + [
        ("dlq.reason", reason.encode()),
        # Cut at 1024 bytes without splitting a multi-byte character: the header stays valid UTF-8.
        ("dlq.error", error.encode()[:1024].decode(errors="ignore").encode()),
        ("dlq.topic", topic.encode()),
        ("dlq.partition", str(partition).encode()),
        ("dlq.offset", str(offset).encode()),
        ("dlq.stage", stage.encode()),
        ("dlq.at", str(at).encode()),
    ]


#: Bytes a produce request spends around one record: the batch header (61) and the record's varints.
RECORD_OVERHEAD = 512
#: What the value, key and headers of a dead letter cut by ``fit_dead_letter`` may have lost.
CUT_PARTS = ("value", "headers", "key")


def record_limit(max_request_size: int, max_message_bytes: int) -> int:
    """Bytes of key, value and headers that one dead letter may take (the producer and the topic agree)."""
    return min(max_request_size, max_message_bytes) - RECORD_OVERHEAD


def record_size(key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> int:
    """Key, value and header bytes, with 10 bytes of varints per header (an upper bound)."""
    return len(key or b"") + len(value or b"") + sum(len(k.encode()) + len(v) + 10 for k, v in headers)


def fit_dead_letter(
    key: bytes | None, value: bytes | None, headers: Headers, limit: int
) -> tuple[bytes | None, bytes | None, Headers]:
    """The dead letter as written: unchanged when it fits in ``limit`` bytes, else cut to fit.

    The value is cut first, then the original (non-``dlq.``) headers are dropped, then the key is cut.
    A cut record says so: ``dlq.truncated`` (the parts cut: ``value``, ``headers``, ``key``),
    ``dlq.original_size`` and ``dlq.original_sha256`` (of the whole value). ValueError when even the
    ``dlq.*`` headers do not fit.
    """
    if record_size(key, value, headers) <= limit:
        return key, value, headers
    original = value or b""

    def marks(parts: Sequence[str]) -> Headers:
        return [
            ("dlq.truncated", ",".join(parts).encode()),
            ("dlq.original_size", str(len(original)).encode()),
            ("dlq.original_sha256", hashlib.sha256(original).hexdigest().encode()),
        ]

    own = [(k, v) for k, v in headers if k.startswith(DLQ_PREFIX)]
    widest = marks(CUT_PARTS)  # room is counted for the longest list, so the actual one always fits
    for kept, dropped in ((headers, []), (own, ["headers"])):
        room = limit - record_size(key, None, [*kept, *widest])
        if room >= 0:
            parts = ["value"] * (len(original) > room) + dropped
            return key, (value if value is None else value[:room]), [*kept, *marks(parts)]
    room = limit - record_size(None, None, [*own, *widest])
    if room < 0:
        raise ValueError(f"the dlq.* headers alone are over the limit of {limit} bytes")
    parts = ["value"] * bool(original) + ["headers"] * (own != list(headers)) + ["key"] * (len(key or b"") > room)
    return (key if key is None else key[:room]), (value if value is None else b""), [*own, *marks(parts)]


def dead_letter_record(
    message: Any, *, reason: str, error: str, stage: str, at: int, limit: int
) -> tuple[bytes | None, bytes | None, Headers]:
    """Key, value and headers of the dead letter for ``message`` (a record with topic, partition,
    offset, key, value and headers), cut to ``limit`` bytes if need be."""
    headers = dlq_headers(
        message.headers, reason=reason, error=error, topic=message.topic,
        partition=message.partition, offset=message.offset, stage=stage, at=at,
    )
    return fit_dead_letter(dlq_key(message.key, message.value), message.value, headers, limit)
