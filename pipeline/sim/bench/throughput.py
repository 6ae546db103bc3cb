"""Throughput on one backlog: the bare aiokafka loop, then one worker, on the same broker.

The bare loop (``pipeline.sim.bench.bare``) is the least any consumer of ``tracking.raw`` does; it
runs in a process of its own, as the worker does. The worker is timed from "ready" until the last output of the backlog (its Kafka timestamp), and also
from its first output to its last (small backlogs: without the group join); what it and the broker
spent in CPU seconds is read from /proc.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Any

import orjson

from pipeline.sim.bench import bare as bare_loop, kafka, procs
from pipeline.sim.bench.backlog import Backlog, live_bumps
from pipeline.sim.bench.stage import Stage, wait_ready, worker_pid
from pipeline.sim.bench.verify import read_outputs, verdict
from pipeline.sim.workers import worker_env

SCRATCH_TOPIC = "bench.baseline"
LIVE_BARRIERS = 2


def bare(here: Stage, backlog: Backlog, timeout_s: float, target: str = SCRATCH_TOPIC) -> dict[str, Any]:
    """The bare loop, a process of its own as the worker is, moves the backlog to ``target``; its figures."""
    broker_cpu = here.broker_cpu()
    command = bare_loop.drain_command(here.settings.topic_raw, target, backlog.records)
    env = worker_env(here.settings.kafka_bootstrap_servers, here.settings.app_id)
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, timeout=timeout_s, check=True)
    figures = orjson.loads(done.stdout.strip().splitlines()[-1])
    seconds = figures["seconds"]
    return {"events": len(backlog.sent), "records": backlog.records, "seconds": seconds,
            "events_per_s": len(backlog.sent) / seconds if seconds else 0.0,
            "cpu_s": figures["cpu_s"], "broker_cpu_s": here.broker_cpu() - broker_cpu}


def worker(here: Stage, backlog: Backlog, timeout_s: float) -> dict[str, Any]:
    """One fresh worker drains the backlog; its figures, with the oracle's verdict on every event."""
    started = time.monotonic()
    process = here.worker()
    ready_s = wait_ready(process, started)
    ready_ms, pid = time.time() * 1000, worker_pid(process)
    cpu, broker_cpu, rss = procs.cpu_seconds(pid), here.broker_cpu(), [procs.rss_mib(pid)]
    live_bumps(here, LIVE_BARRIERS)
    sample = lambda: rss.append(procs.rss_mib(pid))  # noqa: E731
    asyncio.run(kafka.wait_outcomes(here.settings, len(backlog.sent), timeout_s, sample))
    cpu, broker_cpu = procs.cpu_seconds(pid) - cpu, here.broker_cpu() - broker_cpu
    rss.append(procs.rss_mib(pid))
    lag = asyncio.run(kafka.wait_drained(here.settings, kafka.tracking_group(here.settings), 120))
    outputs = asyncio.run(read_outputs(here.settings, backlog.run))
    seconds = max(outputs.last_ms - ready_ms, 1.0) / 1000
    oracle = verdict(backlog.run, backlog.sent, outputs, here.snapshot)
    if lag:
        oracle["passed"] = False
        oracle["problems"].insert(0, f"the tracking group did not commit all of tracking.raw: lag {lag}")
    busy_s = max(outputs.last_ms - outputs.first_ms, 1.0) / 1000  # leaves out joining the group after "ready"
    return {"events": len(backlog.sent), "seconds": seconds, "events_per_s": len(backlog.sent) / seconds,
            "first_to_last_output_events_per_s": len(backlog.sent) / busy_s,
            "ready_s": ready_s, "cpu_s": cpu, "broker_cpu_s": broker_cpu,
            "rss_mib": {"first": rss[0], "last": rss[-1], "max": max(rss)}, "oracle": oracle}
