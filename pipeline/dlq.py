"""Dead-letter records: the original bytes, unchanged, and headers that say what went wrong where."""

from __future__ import annotations

from collections.abc import Sequence

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
