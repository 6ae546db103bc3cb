"""A load check of HTTP ingest (not a test): N requests at concurrency C on loopback, then it stops.

    .venv/bin/python -m tests.load_ingest                      # starts its own broker and worker
    .venv/bin/python -m tests.load_ingest --url http://127.0.0.1:8080 --pixels 20000 --concurrency 50

Prints requests/s, events/s and p50/p99 latency for ``GET /t.gif`` and for ``POST /events`` with
NDJSON batches. Client and worker share the machine, so the figures are a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from pipeline.kafka.broker import EmbeddedBroker
from tests.factories import BROWSER_UA
from tests.harness import Worker, worker_env

CAMPAIGNS = [f"cmp-load-{n}" for n in range(20)]


def pixel_request(i: int) -> tuple[str, str, dict[str, Any]]:
    ts = int(time.time() * 1000)
    query = f"/t.gif?e=load-{i}&type=impression&c={CAMPAIGNS[i % 20]}&p=pub-load&s=slot-load&ts={ts}"
    return "GET", query, {}


def batch_request(size: int) -> Callable[[int], tuple[str, str, dict[str, Any]]]:
    def make(i: int) -> tuple[str, str, dict[str, Any]]:
        ts = int(time.time() * 1000)
        lines = [
            orjson.dumps({"event_id": f"load-{i}-{n}", "type": "impression", "ts": ts, "campaign_id": CAMPAIGNS[n % 20],
                          "publisher_id": "pub-load", "slot_id": "slot-load", "user_agent": BROWSER_UA})
            for n in range(size)
        ]
        return "POST", "/events", {"data": b"\n".join(lines), "headers": {"Content-Type": "application/x-ndjson"}}

    return make


async def run(base: str, name: str, make: Callable[[int], tuple[str, str, dict[str, Any]]], requests: int,
              concurrency: int, events_per_request: int) -> None:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    next_i = iter(range(requests))
    # Built before the clock starts, so the figures measure the server, not the client's encoding.
    prepared = [make(i) for i in range(requests)]

    async def client(session: aiohttp.ClientSession) -> None:
        for i in next_i:
            method, path, kwargs = prepared[i]
            start = time.perf_counter()
            async with session.request(method, base + path, **kwargs) as response:
                await response.read()
            latencies.append(time.perf_counter() - start)
            statuses[response.status] += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers={"User-Agent": BROWSER_UA}) as session:
        for i in range(min(50, requests)):  # warm up connections and the producer
            method, path, kwargs = prepared[i]
            async with session.request(method, base + path, **kwargs) as response:
                await response.read()
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"{name}: {requests} requests, concurrency {concurrency}, {elapsed:.1f} s: "
        f"{requests / elapsed:,.0f} requests/s, {requests * events_per_request / elapsed:,.0f} events/s, "
        f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms, "
        f"statuses {dict(statuses)}",
        flush=True,
    )


async def measure(base: str, args: argparse.Namespace) -> None:
    await run(base, "GET /t.gif", pixel_request, args.pixels, args.concurrency, 1)
    await run(base, f"POST /events x{args.batch}", batch_request(args.batch), args.batches, args.batch_concurrency,
              args.batch)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running worker's ingest listener; by default a broker and worker are started")
    parser.add_argument("--pixels", type=int, default=20_000, help="GET /t.gif requests")
    parser.add_argument("--concurrency", type=int, default=50, help="pixel requests in flight")
    parser.add_argument("--batches", type=int, default=500, help="POST /events requests")
    parser.add_argument("--batch", type=int, default=100, help="events per POST")
    parser.add_argument("--batch-concurrency", type=int, default=10, help="POST requests in flight")
    args = parser.parse_args()
    if args.url:
        asyncio.run(measure(args.url.rstrip("/"), args))
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="adtrack-load-"))
    try:
        with EmbeddedBroker(log_path=scratch / "broker.log") as broker:
            # All the load comes from one address: lift the per-client POST limit, which is there
            # to keep one client from starving others, not to cap a load test.
            env = worker_env(broker.bootstrap, "adtrack-load", ADTRACK_INGEST_MAX_POSTS_PER_CLIENT="0")
            worker = Worker(env=env, datadir=scratch / "data", log_path=scratch / "worker.log").start()
            try:
                worker.wait_ready()
                asyncio.run(measure(f"http://127.0.0.1:{worker.ingest_port}", args))
            finally:
                worker.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
