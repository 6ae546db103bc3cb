"""The benchmark's smoke run: every phase once, tiny, on its own broker and worker (no timing asserted)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
import pytest

from pipeline.sim import bench
from pipeline.sim.bench import report


@pytest.mark.integration
def test_a_smoke_run_reports_every_figure_and_every_event_had_its_expected_outcome(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    assert bench.run(dataclasses.replace(bench.SMOKE, json=out)) == 0
    figures = orjson.loads(out.read_bytes())
    assert set(figures) == set(report.KEYS)
    assert [k for k, v in figures.items() if v is None] == []
    assert figures["oracle"] == {"passed": True, "problems": []}
    [only] = figures["per_run"]
    assert only["worker"]["oracle"]["passed"] and only["worker"]["oracle"]["events"] == bench.SMOKE.events
    assert only["worker"]["oracle"]["missing"] == 0 and only["worker"]["oracle"]["wrong"] == 0
    assert figures["latency"]["oracle"]["passed"] and figures["latency"]["joined"] > 0
    for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "max_gap_ms", "rate"):
        assert isinstance(figures["latency"][key], (int, float))
    assert figures["latency"]["bare"]["joined"] > 0
    for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
        assert isinstance(figures["latency"]["bare"][key], (int, float))
    assert figures["soak"]["passed"] and len(figures["soak"]["rss_mib"]) >= 2
    answered = figures["soak"]["outcomes"]
    assert answered["missing"] == 0 and answered["answered"] == answered["events"] == figures["soak"]["events"] > 0
    assert isinstance(figures["soak"]["rss_slope_mib_per_min"], float)
    assert figures["archive"]["records_per_s"] > 0  # a figure; whether it keeps up is for the bench to say
    assert only["archive"]["rows"] == only["worker"]["oracle"]["accepted"] and only["archive"]["lag"] == {}
    assert figures["restore"]["rows"] == bench.SMOKE.restore_rows
    assert set(figures["restore"]) >= {"available", "restored_rows", "seconds", "rows_per_s", "ready_s", "serving_s"}
    for key in ("bare_events_per_s", "worker_events_per_s", "ratio", "worker_cpu_s", "broker_cpu_s"):
        assert figures[key] > 0
