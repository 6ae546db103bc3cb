"""The benchmark, run small: a backlog, the bare aiokafka loop and a real worker, each giving every event an outcome."""

from __future__ import annotations

import re

import pytest

from pipeline import bench

pytestmark = pytest.mark.integration


def test_both_runs_drain_the_whole_backlog_and_are_reported(capsys) -> None:
    assert bench.run(count=400, invalid_ratio=0.1, seed=3, bootstrap=None, skip_baseline=False) == 0
    out = capsys.readouterr().out
    assert "bench: 400 events on tracking.raw (10% invalid)" in out
    rows = {m["run"]: m for m in re.finditer(r"^(?P<run>bare aiokafka loop|adtrack worker)\s+(?P<events>\d+)\s", out, re.M)}
    assert set(rows) == {"bare aiokafka loop", "adtrack worker"}
    assert {int(m["events"]) for m in rows.values()} == {400}


def test_the_table_compares_each_run_with_the_bare_loop() -> None:
    runs = [bench.Run("bare aiokafka loop", 1000, 0.5), bench.Run("adtrack worker", 1000, 2.0, (70.0, 90.0))]
    lines = bench.table(runs).splitlines()
    assert lines[1].split() == ["bare", "aiokafka", "loop", "1000", "0.50", "2000", "1.00", "-"]
    assert lines[2].split() == ["adtrack", "worker", "1000", "2.00", "500", "0.25", "70", "->", "90"]
