"""Changelogs folded to their latest value per key, and what a stopped worker holds of them on disk."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import rocksdict
from kafka import KafkaConsumer, TopicPartition

from config.clients import kafka_python_options
from config.settings import Settings
from pipeline.state.records import ACCEPTED_BATCH, AcceptedBatch

OFFSET_KEY = b"__faust\x00offset__"  # faust's own bookkeeping in every partition db, not table data
STATE_BOOKKEEPING = b"~"  # the tracking state store's changelog offset and expiry index, not state rows

Partitions = dict[int, dict[Any, Any]]
BATCH_PREFIX = ACCEPTED_BATCH.decode()


def table_changelog(settings: Settings, table: str) -> Partitions:
    return changelog(settings, f"{settings.app_id}-{table}-changelog", orjson.loads)


def state_changelog(settings: Settings) -> Partitions:
    """The tracking state changelog as the rows a store holds: each accepted batch one row per event."""
    folded = changelog(settings, settings.tracking_state_topic, bytes.decode)
    return {partition: expand(rows) for partition, rows in folded.items()}


def expand(rows: dict[str, Any]) -> dict[str, Any]:
    """``accepted-batch:<offset>`` rows as ``accepted:<event_id>`` rows, batch after batch in offset order."""
    batches = sorted((int(key.removeprefix(BATCH_PREFIX)), row) for key, row in rows.items()
                     if key.startswith(BATCH_PREFIX))
    expanded = {key: row for key, row in rows.items() if not key.startswith(BATCH_PREFIX)}
    for _offset, row in batches:
        for event_id, entry in AcceptedBatch.decode(orjson.dumps(row)).items():
            expanded[f"accepted:{event_id}"] = entry._asdict()
    return expanded


def changelog(settings: Settings, topic: str, decode_key: Any, timeout_s: float = 30.0) -> Partitions:
    """Every partition of a changelog folded to its latest value per key (a tombstone deletes)."""
    consumer = KafkaConsumer(**kafka_python_options(settings), enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert tps, f"no changelog topic {topic}"
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        folded: Partitions = {tp.partition: {} for tp in tps}
        deadline = time.monotonic() + timeout_s
        # A fetch's high watermark is exact; the embedded broker's ListOffsets may under-report the end.
        while any(consumer.highwater(tp) is None or consumer.position(tp) < consumer.highwater(tp) for tp in tps):
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            for records in consumer.poll(timeout_ms=200).values():
                for m in records:
                    key = decode_key(m.key)
                    if m.value is None:
                        folded[m.partition].pop(key, None)
                    else:
                        folded[m.partition][key] = orjson.loads(m.value)
        return folded
    finally:
        consumer.close()


def held(datadir: Path, table: str, partitions: list[int]) -> Partitions:
    """What a stopped worker holds of a Faust table: its rocksdb partition files, opened read-only."""
    return {p: read_only(datadir / "v1" / "tables" / f"{table}-{p}.db", orjson.loads, OFFSET_KEY)
            for p in partitions}


def held_state(datadir: Path, settings: Settings, partitions: list[int]) -> Partitions:
    """What a stopped worker holds of the tracking state, partition by partition."""
    folder = datadir / "v1" / "tables" / "tracking-state"
    return {p: read_only(folder / f"{settings.topic_raw}-{p}", bytes.decode, STATE_BOOKKEEPING) for p in partitions}


def read_only(path: Path, decode_key: Any, skip: bytes) -> dict[Any, Any]:
    assert path.is_dir(), f"the worker holds no {path.name}"
    db = rocksdict.Rdict(str(path), options=rocksdict.Options(raw_mode=True),
                         access_type=rocksdict.AccessType.read_only())
    try:
        return {decode_key(k): orjson.loads(v) for k, v in db.items() if not k.startswith(skip)}
    finally:
        db.close()
