"""Dead-letter records: the original bytes, unchanged, and headers that say what went wrong where."""

from __future__ import annotations

from collections.abc import Sequence

Headers = list[tuple[str, bytes]]

DLQ_PREFIX = "dlq."


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
