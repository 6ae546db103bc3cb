"""``load-core-data``: publish a back-office export (JSON array or JSONL of updates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from config.settings import Settings
from pipeline.domain.coredata import parse_update
from pipeline.domain.errors import CoreDataFileError, PoisonError
from pipeline.kafka import clients
from pipeline.kafka.admin import ensure_topics_sync


def read_updates(path: Path) -> list[dict[str, Any]]:
    """Read and check every update in the file; refuse the whole file on the first bad one."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise CoreDataFileError(f"{path}: {exc.strerror}") from None
    if text.lstrip().startswith(b"["):
        try:
            numbered = list(enumerate(orjson.loads(text), start=1))
        except orjson.JSONDecodeError as exc:
            raise CoreDataFileError(f"{path}: not JSON/JSONL: {exc}") from None
    else:
        numbered = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                numbered.append((n, orjson.loads(line)))
            except orjson.JSONDecodeError as exc:
                raise CoreDataFileError(f"{path}:{n}: not JSON: {exc}") from None
    for n, item in numbered:
        if type(item) is not dict:
            raise CoreDataFileError(f"{path}:{n}: expected a JSON object")
        try:
            parse_update(item)
        except PoisonError as exc:
            raise CoreDataFileError(f"{path}:{n}: {exc}") from None
    return [item for _, item in numbered]


def publish_updates(settings: Settings, updates: list[dict[str, Any]]) -> int:
    ensure_topics_sync(settings)
    producer = clients.blocking_producer(settings, acks="all", linger_ms=settings.producer_linger_ms)
    try:
        for update in updates:
            key = f"{update['entity']}:{update['id']}".encode()
            producer.send(settings.topic_coredata_updates, key=key, value=orjson.dumps(update))
        producer.flush()
    finally:
        producer.close()
    return len(updates)
