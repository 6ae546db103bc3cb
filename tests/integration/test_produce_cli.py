"""``python -m pipeline produce-events`` against the embedded broker."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from itertools import islice
from typing import Any

import orjson
import pytest

from config.settings import Settings
from pipeline.cli.loader import read_updates
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.sim.generator import BUCKETS, SAMPLE_CORE_DATA, generate
from tests.harness import ROOT, Kafka

pytestmark = pytest.mark.integration

SUMMARY = re.compile(r"produced 200 events to tracking\.raw in [0-9.]+ s \([0-9]+/s\): (?P<buckets>.+); 0 send errors")


def produce_events(bootstrap: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADTRACK_")}
    env.update(KAFKA_BOOTSTRAP_SERVERS=bootstrap, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "produce-events", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def campaign_events(values: list[bytes | None]) -> list[dict[str, Any]]:
    """The values that decode to an object with a campaign_id: everything but malformed and some schema poison."""
    found = []
    for value in values:
        try:
            event = orjson.loads(value or b"")
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict) and isinstance(event.get("campaign_id"), str):
            found.append(event)
    return found


def test_produce_events_puts_the_seeded_stream_on_tracking_raw_keyed_by_campaign(
    broker: EmbeddedBroker, settings: Settings, kafka: Kafka
) -> None:
    result = produce_events(broker.bootstrap, "--count", "200", "--seed", "7", "--invalid-ratio", "0.2", "--quiet")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and (match := SUMMARY.fullmatch(lines[0])), result.stdout
    tally = {name: int(n) for name, n in (part.rsplit(" ", 1) for part in match["buckets"].split(", "))}
    assert set(tally) <= set(BUCKETS) and sum(tally.values()) == 200

    records = kafka.read(settings.topic_raw)
    assert len(records) == 200
    for record in records:
        for event in campaign_events([record.value]):
            assert record.key == event["campaign_id"].encode()

    # The seed decides the stream (the clock only moves timestamps): the same items, in the same buckets.
    expected = list(islice(generate(read_updates(SAMPLE_CORE_DATA), random.Random(7), 0.2,
                                    lambda: time.time_ns() // 1_000_000), 200))
    assert tally == {b: n for b in BUCKETS if (n := sum(item.expected == b for item in expected))}
    sent = Counter(str(e.get("event_id")) for e in campaign_events([r.value for r in records]))
    assert sent == Counter(str(e.get("event_id")) for e in campaign_events([item.value for item in expected]))
