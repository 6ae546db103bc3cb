"""The benchmark's smoke run: every phase once, tiny, on its own broker and worker (no timing asserted)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
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
    # the worker is set against the bare loop before it; the bare loop after it shows the machine's drift
    assert only["bare_after"]["events_per_s"] > 0 and only["bare_after"]["records"] == only["bare"]["records"]
    assert only["ratio"] == pytest.approx(only["worker"]["first_to_last_output_events_per_s"]
                                          / only["bare"]["events_per_s"])
    assert figures["latency"]["oracle"]["passed"] and figures["latency"]["joined"] > 0
    for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "max_gap_ms", "rate"):
        assert isinstance(figures["latency"][key], (int, float))
    by_path = figures["latency"]["paths"]  # every joined event is either sent home or re-routed
    assert by_path["home"]["events"] + by_path["rerouted"]["events"] == figures["latency"]["joined"]
    assert by_path["home"]["events"] > 0
    own = figures["latency"]["worker_batches"]  # scraped from the worker's /metrics before and after
    assert own["batches"] > 0 and 0 < own["p50_ms_at_most"] <= own["p99_ms_at_most"]
    assert figures["latency"]["bare"]["joined"] > 0
    for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
        assert isinstance(figures["latency"]["bare"][key], (int, float))
    # who the cores went to over each half of the phase: the consumer (worker or bare loop) and the broker
    assert figures["latency"]["worker_cpu_s"] > 0 and figures["latency"]["broker_cpu_s"] > 0
    assert figures["latency"]["bare"]["cpu_s"] > 0 and figures["latency"]["bare"]["broker_cpu_s"] > 0
    assert figures["soak"]["passed"] and len(figures["soak"]["rss_mib"]) >= 2
    assert figures["soak"]["traffic_s"] >= bench.SMOKE.soak_s  # the slopes stop there; the drain comes after
    answered = figures["soak"]["outcomes"]
    assert answered["missing"] == 0 and answered["answered"] == answered["events"] == figures["soak"]["events"] > 0
    assert isinstance(figures["soak"]["rss_slope_mib_per_min"], float)
    assert isinstance(figures["soak"]["rss_slope_second_half_mib_per_min"], float)
    memory = figures["soak"]["state_memory_mib"]  # scraped from the worker's /metrics with each RSS sample
    assert len(memory) == len(figures["soak"]["rss_mib"]) and memory[-1][2] > 0
    assert figures["archive"]["records_per_s"] > 0  # a figure; whether it keeps up is for the bench to say
    assert only["archive"]["rows"] == only["worker"]["oracle"]["accepted"] and only["archive"]["lag"] == {}
    assert figures["restore"]["rows"] == figures["restore"]["restored_rows"] == bench.SMOKE.restore_rows
    assert set(figures["restore"]) >= {"available", "restored_rows", "seconds", "rows_per_s", "ready_s", "serving_s"}
    for key in ("bare_events_per_s", "worker_events_per_s", "ratio", "worker_cpu_s", "broker_cpu_s"):
        assert figures[key] > 0


def _descendants(root: int) -> set[int]:
    """Live (not zombie) processes under ``root``, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.integration
def test_a_bench_sent_sigterm_stops_its_broker_and_worker_on_the_way_out(tmp_path: Path) -> None:
    # Its logs and data dirs go under the test's own directory.
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "bench", "--smoke"], stdout=subprocess.DEVNULL,
                               env={**os.environ, "TMPDIR": str(tmp_path)}, start_new_session=True)
    try:
        deadline, children = time.monotonic() + 120, set()
        while time.monotonic() < deadline:  # until the broker and a worker run under it
            children = _descendants(process.pid)
            commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children if _alive(pid)]
            if any(b"faust" in c for c in commands) and any(b"broker" in c for c in commands):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the smoke bench started no broker and worker within 120 s")
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 143
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in children:  # what the bench left behind, if it failed to stop it
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
