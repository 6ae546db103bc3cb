"""Scenario 5: a worker's data dir is deleted mid-stream; restarted, it rebuilds its tables from the changelogs.

Afterwards the tables it holds equal a plain fold of every changelog (latest value per key), and each
campaign's spend equals the cost of its distinct accepted events on ``tracking.realtime``.
"""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
import rocksdict
from kafka import KafkaConsumer, TopicPartition

from config.clients import kafka_python_options
from config.settings import Settings
from pipeline import oracle
from pipeline.pricing import to_micros
from tests.harness import wait_until
from tests.reliability.stream import Stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TABLES = ("coredata-campaign", "coredata-publisher", "coredata-slot", "coredata-budget")
OFFSET_KEY = b"__faust\x00offset__"  # faust's own bookkeeping in every partition db, not table data
STATE_BOOKKEEPING = b"~"  # the tracking state store's changelog offset and expiry index, not state rows

Partitions = dict[int, dict[Any, Any]]


def table_changelog(settings: Settings, table: str) -> Partitions:
    return changelog(settings, f"{settings.app_id}-{table}-changelog", orjson.loads)


def state_changelog(settings: Settings) -> Partitions:
    return changelog(settings, settings.tracking_state_topic, bytes.decode)


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


def realtime_cost(settings: Settings) -> dict[str, int]:
    """Micros per campaign over the distinct accepted events on tracking.realtime (a replay's copy counts once)."""
    costs: dict[tuple[str, str], int] = {}
    for _, value in oracle.read_topic(settings, settings.topic_realtime):
        record = orjson.loads(value)
        costs[(record["campaign_id"], record["event_id"])] = to_micros(record["cost"])
    total: dict[str, int] = defaultdict(int)
    for (campaign_id, _), micros in costs.items():
        total[campaign_id] += micros
    return dict(total)


def test_a_wiped_data_dir_is_rebuilt_from_the_changelogs(make_worker, kafka, settings, report) -> None:
    stream = Stream(settings, count=4500, rate=150, seed=15)
    stream.load_core_data()
    worker = make_worker("wipe-0").start().wait_ready()
    stream.start()
    wait_until(lambda: stream.produced >= stream.count // 5, 120, "a fifth of the stream")

    worker.stop()
    state = worker.datadir / "v1" / "tables" / "tracking-state"
    assert any(state.glob(f"{settings.topic_raw}-*")), f"nothing to wipe in {state}"
    shutil.rmtree(worker.datadir)
    assert stream.produced < stream.count, "the wipe must happen mid-stream"
    worker = make_worker("wipe-1", datadir=worker.datadir).start().wait_ready()

    stream.join()
    report(stream, duplicates=0)
    worker.stop()  # graceful: its rocksdb files are closed and can be opened read-only

    for table in TABLES:
        rebuilt = table_changelog(settings, table)
        assert any(rebuilt.values()), f"{table}: nothing to compare, its changelog is empty"
        holds = held(worker.datadir, table, sorted(rebuilt))
        for p in sorted(rebuilt):
            assert holds[p] == rebuilt[p], f"{table}[{p}]: the worker's table differs from its changelog"

    rebuilt = state_changelog(settings)
    assert any(rebuilt.values()), "tracking state: nothing to compare, its changelog is empty"
    holds = held_state(worker.datadir, settings, sorted(rebuilt))
    for p in sorted(rebuilt):
        assert holds[p] == rebuilt[p], f"tracking state[{p}]: the worker's store differs from its changelog"

    spent = {key.removeprefix("spend:"): row["spent_micros"]
             for rows in rebuilt.values() for key, row in rows.items() if key.startswith("spend:")}
    cost = realtime_cost(settings)
    assert cost, "nothing was accepted"
    for campaign_id in sorted(set(spent) | set(cost)):
        assert spent.get(campaign_id, 0) == cost.get(campaign_id, 0), f"spend of {campaign_id} is not exact"
