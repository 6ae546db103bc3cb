"""``produce-events``: realistic test traffic onto ``tracking.raw``, paced, with a summary of what to expect.

The summary counts what was sent per expected bucket, so it can be compared with what the workers
put on the realtime, rejected and DLQ topics.
"""

from __future__ import annotations

import argparse
import itertools
import random
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from aiokafka.errors import KafkaError as AdminError
from kafka.errors import KafkaError

from config.settings import Settings
from pipeline.cli.loader import read_updates
from pipeline.cli.progress import ProgressBar
from pipeline.kafka import clients
from pipeline.kafka.admin import ensure_topics_sync
from pipeline.sim.generator import BUCKETS, SAMPLE_CORE_DATA, generate
from pipeline.sim.pacing import TokenBucket


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def problem(args: argparse.Namespace) -> str | None:
    if args.count < 0:
        return f"--count must be 0 (until Ctrl-C) or more, got {args.count}"
    if args.rate < 0:
        return f"--rate must be 0 (as fast as possible) or more, got {args.rate}"
    if not 0 <= args.invalid_ratio <= 1:
        return f"--invalid-ratio must be between 0 and 1, got {args.invalid_ratio}"
    return None


def summary(topic: str, tally: Counter[str], elapsed_s: float, errors: int) -> str:
    """One line: how many, how fast, how many per expected bucket (in rule order), how many failed."""
    total = sum(tally.values())
    rate = total / elapsed_s if elapsed_s > 0 else 0.0
    buckets = ", ".join(f"{b} {tally[b]}" for b in BUCKETS if tally[b])
    return (
        f"produced {total} events to {topic} in {elapsed_s:.1f} s ({rate:.0f}/s): {buckets or 'none'}; "
        f"{errors} send error{'' if errors == 1 else 's'}"
    )


class SendErrors:
    """Counts failed sends (called from the producer's I/O thread); reports the first one."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, exc: BaseException) -> None:
        self.count += 1
        if self.count == 1:
            print(f"send failed: {type(exc).__name__}: {exc}", file=sys.stderr)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(settings: Settings, args: argparse.Namespace) -> int:
    if (message := problem(args)) is not None:
        print(f"error: {message}", file=sys.stderr)
        return 2
    updates = read_updates(Path(args.core_data) if args.core_data else SAMPLE_CORE_DATA)
    stream = generate(updates, random.Random(args.seed), args.invalid_ratio, now_ms, settings)
    try:
        ensure_topics_sync(settings)
        producer = clients.blocking_producer(settings, acks="all", linger_ms=settings.producer_linger_ms)
    except (AdminError, KafkaError, TimeoutError) as exc:
        print(f"error: cannot reach Kafka at {settings.kafka_bootstrap_servers}: {exc}", file=sys.stderr)
        return 2
    bucket = TokenBucket(args.rate) if args.rate > 0 else None
    progress = ProgressBar(args.count, sys.stderr) if sys.stderr.isatty() and not args.quiet else None
    tally: Counter[str] = Counter()
    errors = SendErrors()
    started = time.monotonic()
    # SIGTERM (as from the demo or a process manager) ends the run like Ctrl-C: flushed, summed up.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        for done, item in enumerate(itertools.islice(stream, args.count or None), start=1):
            if bucket is not None:
                bucket.take()
            try:
                sent = producer.send(settings.topic_raw, value=item.value, key=item.key, headers=item.headers)
                sent.add_errback(errors)
            except KafkaError as exc:
                errors(exc)
            tally[item.expected] += 1
            if progress is not None:
                progress.update(done)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the run: flush what was sent and say what it was
    finally:
        signal.signal(signal.SIGTERM, previous)
        if progress is not None:
            progress.close()
        producer.flush()
        producer.close()
        print(summary(settings.topic_raw, tally, time.monotonic() - started, errors.count), flush=True)
    return 1 if errors.count else 0
