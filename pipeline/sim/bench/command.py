"""``python -m pipeline bench``: the phases in order, the verdicts, the figures, the exit code.

Each throughput run gets a fresh broker and backlog, moved by the bare loop, then by one worker (the
ratio), then by the bare loop again (how far the machine's speed moved meanwhile); the latency, soak and restore phases follow, each on a fresh broker of its
own, at half the measured maximum rate. Every event of the throughput and latency phases is judged
by the oracle; the first phase that fails stops the bench with exit code 1.
"""

from __future__ import annotations

import dataclasses
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import orjson

from pipeline.domain.errors import WorkerError
from pipeline.sim.bench import archiving, latency, report, restore, soak, throughput
from pipeline.sim.bench.backlog import BARRIERS, preload
from pipeline.sim.bench.mix import Shares
from pipeline.sim.bench.stage import stage
from pipeline.sim.bench.throughput import LIVE_BARRIERS


@dataclasses.dataclass(frozen=True)
class Options:
    events: int = 500_000
    runs: int = 3
    latency_s: float = 20.0
    soak_s: float = 300.0
    restore_rows: int = 1_000_000
    shares: Shares = Shares()
    seed: int = 1
    rate: float | None = None  # of the open-loop phases; None: half the measured maximum
    json: Path | None = None
    keep: bool = False


SMOKE = Options(events=3000, runs=1, latency_s=4.0, soak_s=15.0, restore_rows=20_000)


class PhaseFailed(Exception):
    """A phase found events without their expected outcome, or a worker that did not finish."""


def run(options: Options) -> int:
    home = Path(tempfile.mkdtemp(prefix="adtrack-bench-"))
    # Stopped with SIGTERM, the bench still stops its workers and brokers on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    shares = options.shares
    print(f"bench: {options.events} events ({shares.invalid:.0%} invalid, {shares.duplicates:.0%} duplicates, "
          f"{shares.rerouted:.0%} re-routed, {BARRIERS} preloaded and {LIVE_BARRIERS} live core-data barriers), "
          f"{options.runs} run(s); logs in {home}", flush=True)
    figures: dict[str, Any] = dict.fromkeys(report.KEYS)
    failure = None
    try:
        _phases(options, home, figures)
    except (PhaseFailed, TimeoutError, WorkerError, subprocess.SubprocessError) as exc:
        failure = str(exc)
    figures["oracle"] = {"passed": failure is None, "problems": [failure] if failure else []}
    if options.json is not None:
        options.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    print(report.table(figures), flush=True)
    if failure is not None:
        print(f"\nbench FAILED: {failure}\nlogs kept in {home}", flush=True)
        return 1
    if not options.keep:
        shutil.rmtree(home, ignore_errors=True)
    return 0


def _judge(phase: str, verdict: dict[str, Any]) -> None:
    table = verdict.pop("table", None)
    if not verdict["passed"]:
        raise PhaseFailed(f"{phase}: the oracle found events without their expected outcome:\n{table or ''}\n"
                          + "\n".join(verdict["problems"]))


def phase_rate(options: Options, figures: dict[str, Any]) -> float:
    """The rate of the latency and soak phases: ``--rate``, or half the worker's measured maximum.

    0 when neither phase runs: a bench of the restore alone (``--runs 0``) measures no maximum.
    """
    if options.latency_s <= 0 and options.soak_s <= 0:
        return 0.0
    return options.rate or figures["worker_first_to_last_events_per_s"] / 2


def _phases(options: Options, home: Path, figures: dict[str, Any]) -> None:
    runs = []
    for n in range(1, options.runs + 1):
        with stage(home, f"run-{n}") as here:
            backlog = preload(here, uuid.uuid4().hex[:12], options.events, options.shares, options.seed)
            timeout_s = max(300.0, options.events / 200)
            bare = throughput.bare(here, backlog, timeout_s)
            worker = throughput.worker(here, backlog, timeout_s)
            _judge(f"run {n}", worker["oracle"])
            for process in here.workers:
                process.stop()
            # The machine's speed drifts within minutes: the bare loop again, to a topic of its own,
            # shows how far it moved while the worker ran (the ratio stays with the phase before).
            bare_after = throughput.bare(here, backlog, timeout_s, f"{throughput.SCRATCH_TOPIC}.after")
            # tracking.batch as fast as the worker wrote it: one record per accepted event
            batch_rate = worker["oracle"]["accepted"] * worker["first_to_last_output_events_per_s"] / worker["events"]
            archived = archiving.measure(here, batch_rate)
        # Both clocks start at the first record handled: the bare loop's at its first fetch, the worker's at
        # its first output (its group join after "ready" is reported apart, as the from-ready rate).
        ratio = worker["first_to_last_output_events_per_s"] / bare["events_per_s"]
        runs.append({"bare": bare, "bare_after": bare_after, "worker": worker, "ratio": ratio, "archive": archived})
        print(f"  run {n}: bare {bare['events_per_s']:.0f}/s then {bare_after['events_per_s']:.0f}/s, "
              f"worker {worker['first_to_last_output_events_per_s']:.0f}/s "
              f"(from ready {worker['events_per_s']:.0f}/s), oracle passed; archive {archived['records_per_s']:.0f} "
              f"records/s", flush=True)
    if runs:
        figures.update(report.summary(options.events, runs))
    rate = phase_rate(options, figures)
    if options.latency_s > 0:
        with stage(home, "latency") as here:
            figures["latency"] = latency.measure(here, rate, options.latency_s, options.shares, options.seed)
        _judge("latency", figures["latency"]["oracle"])
        print(f"  latency at {rate:.0f}/s: p99 {figures['latency']['p99_ms']} ms", flush=True)
    if options.soak_s > 0:
        with stage(home, "soak") as here:
            figures["soak"] = soak.soak(here, rate, options.soak_s, options.shares, options.seed)
        if not figures["soak"]["passed"]:
            answered = figures["soak"]["outcomes"]
            raise PhaseFailed(f"soak: {answered['missing']} of {answered['events']} events without an outcome, "
                              f"lag {figures['soak']['lag']}:\n" + "\n".join(answered.get("missing_events", [])))
        print(f"  soak: {figures['soak']['rss_slope_mib_per_min']:+.2f} MiB/min", flush=True)
    if options.restore_rows > 0:
        with stage(home, "restore") as here:
            figures["restore"] = restore.restore(here, options.restore_rows, options.seed)
