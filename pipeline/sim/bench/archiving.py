"""The archive behind the worker: how fast ``python -m pipeline archive`` turns ``tracking.batch`` into files.

Run after a throughput run, on what its worker wrote to ``tracking.batch``: the archive process starts,
and is timed from the moment it holds its partitions until its group has committed all of the topic
(its offsets are committed only once their files are durable). Its rate is set beside the rate at
which the worker wrote ``tracking.batch``: the archive keeps up when it is the higher.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pipeline.archive.naming import FileName
from pipeline.kafka import offsets
from pipeline.sim import processes
from pipeline.sim.bench.stage import Stage
from pipeline.sim.workers import worker_env

MAX_RECORDS = 50_000
MAX_SECONDS = 1.0  # the last roll waits for it: the clock stops at most this late
ASSIGNED = "archive assigned"


def measure(here: Stage, worker_batch_per_s: float, timeout_s: float = 300.0) -> dict[str, Any]:
    out, log_path = here.home / f"{here.name}-archive", here.home / f"{here.name}-archive.log"
    command = [sys.executable, "-m", "pipeline", "archive", "--out", str(out),
               "--max-records", str(MAX_RECORDS), "--max-seconds", str(MAX_SECONDS)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=worker_env(here.settings.kafka_bootstrap_servers, here.settings.app_id),
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        started = _wait_assigned(process, log_path, timeout_s)
        left = asyncio.run(_wait_committed(here, timeout_s))
        seconds = time.monotonic() - started
    finally:
        processes.stop(process, 10)
    files = [name for path in out.rglob("*.parquet") if (name := FileName.parse(path.name)) is not None]
    rows = sum(name.rows for name in files)
    rate = rows / seconds if seconds else 0.0
    return {"rows": rows, "files": len(files), "seconds": seconds, "records_per_s": rate,
            "worker_batch_records_per_s": worker_batch_per_s, "keeps_up": not left and rate >= worker_batch_per_s,
            "lag": left}


def _wait_assigned(process: subprocess.Popen[bytes], log_path: Path, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ASSIGNED in log_path.read_text(errors="replace"):
            return time.monotonic()
        if process.poll() is not None:
            raise TimeoutError(f"the archive exited with code {process.returncode}; see {log_path}")
        time.sleep(0.05)
    raise TimeoutError(f"the archive was not assigned its partitions in {timeout_s:.0f} s; see {log_path}")


async def _wait_committed(here: Stage, timeout_s: float) -> dict[int, int]:
    """Until the archive group committed all of tracking.batch; the lag left (empty when none)."""
    deadline, left = time.monotonic() + timeout_s, {}
    while time.monotonic() < deadline:
        left = await offsets.lag(here.settings, here.settings.archive_group, here.settings.topic_batch)
        if not left:
            return {}
        await asyncio.sleep(0.2)
    return left
