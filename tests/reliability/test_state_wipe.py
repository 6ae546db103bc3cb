"""Scenario 5: a worker's data dir is deleted mid-stream; restarted, it rebuilds its tables from the changelogs.

Afterwards the tables it holds equal a plain fold of every changelog (latest value per key), and each
campaign's spend equals the cost of its distinct accepted events on ``tracking.realtime``.
"""

from __future__ import annotations

import shutil
from collections import defaultdict

import orjson
import pytest

from config.settings import Settings
from pipeline.domain.pricing import to_micros
from pipeline.sim import oracle
from tests.changelogs import held, held_state, state_changelog, table_changelog
from tests.harness import wait_until
from tests.reliability.stream import Stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TABLES = ("coredata-campaign", "coredata-publisher", "coredata-slot", "coredata-budget")


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
