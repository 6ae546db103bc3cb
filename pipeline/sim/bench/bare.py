"""The bare loop: the least any consumer of ``tracking.raw`` does, the yardstick the worker is measured by.

Consume, decode JSON, encode JSON, produce, commit; no state, no rules. It always runs in a process
of its own, a fresh interpreter as the worker is: the throughput phase over a backlog until it moved
the backlog's records (``drain_command``, which prints its figures as JSON), the latency phase beside
the paced producer until it is sent SIGTERM (``command``). Inside the bench's process it would share
a heap holding every event sent for the oracle, whose garbage collections would slow it down.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
import uuid

import orjson
from aiokafka import ConsumerRebalanceListener

from config.settings import Settings
from pipeline.kafka import clients
from pipeline.sim.bench import kafka

#: Empty fetches answered after this, as the worker's tracking consumer has them (agents/tracking.py).
LIVE_FETCH_MAX_WAIT_MS = 50
#: What the bare process prints once it holds its partitions: the paced traffic may start.
ASSIGNED = "bare loop assigned"


class _Announce(ConsumerRebalanceListener):
    async def on_partitions_revoked(self, revoked: object) -> None:
        pass

    async def on_partitions_assigned(self, assigned: object) -> None:
        print(ASSIGNED, flush=True)


async def loop(settings: Settings, source: str, target: str, count: int | None = None,
               stop: asyncio.Event | None = None) -> float:
    """Move ``count`` records (or until ``stop``) from ``source`` to ``target``; seconds from the first fetch."""
    consumer = clients.consumer(settings, group_id=f"bench-baseline-{uuid.uuid4().hex[:8]}", enable_auto_commit=False,
                                auto_offset_reset="earliest",
                                **{**kafka.FETCH, **({} if stop is None else {"fetch_max_wait_ms": LIVE_FETCH_MAX_WAIT_MS})})
    # Only the process of the latency phase announces its assignment: the paced traffic waits for it.
    consumer.subscribe([source], **({} if stop is None else {"listener": _Announce()}))
    producer = clients.producer(settings, linger_ms=5, max_batch_size=1 << 18)
    await producer.start()
    await consumer.start()
    try:
        done, started = 0, None
        while (count is None or done < count) and not (stop is not None and stop.is_set()):
            batches = await consumer.getmany(timeout_ms=100 if stop is not None else 1000)
            if started is None and batches:
                started = time.perf_counter()
            futures = []
            for records in batches.values():
                for record in records:
                    try:
                        value = orjson.dumps(orjson.loads(record.value))
                    except orjson.JSONDecodeError:
                        value = record.value
                    futures.append(await producer.send(target, value=value, key=record.key))
            await asyncio.gather(*futures)
            if batches:
                await consumer.commit()
            done += len(futures)
        return time.perf_counter() - (started or time.perf_counter())
    finally:
        await consumer.stop()
        await producer.stop()


def drain_command(source: str, target: str, count: int) -> list[str]:
    """The bare loop as a process of its own over ``count`` records; it prints its seconds and CPU seconds as JSON."""
    return [sys.executable, "-c", "import sys; from pipeline.sim.bench.bare import drain; drain(*sys.argv[1:])",
            source, target, str(count)]


def drain(source: str, target: str, count: str) -> None:
    started_cpu = time.process_time()
    seconds = asyncio.run(loop(Settings.from_env(), source, target, int(count)))
    print(orjson.dumps({"seconds": seconds, "cpu_s": time.process_time() - started_cpu}).decode(), flush=True)


def command(source: str, target: str) -> list[str]:
    """The bare loop as a process of its own, with the settings of its environment, until SIGTERM."""
    return [sys.executable, "-c", "import sys; from pipeline.sim.bench.bare import main; main(*sys.argv[1:])",
            source, target]


def main(source: str, target: str) -> None:
    async def until_terminated() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await loop(Settings.from_env(), source, target, stop=stop)

    asyncio.run(until_terminated())
