"""Scenario 2: a graceful stop and restart mid-stream loses nothing and repeats nothing."""

from __future__ import annotations

import pytest

from tests.harness import wait_until
from tests.reliability.stream import Stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_graceful_stop_and_restart_mid_stream_makes_no_duplicates(make_worker, kafka, settings, report) -> None:
    stream = Stream(settings, count=2000, rate=150, seed=12)
    stream.load_core_data()
    worker = make_worker("graceful-0").start().wait_ready()
    stream.start()
    wait_until(lambda: stream.produced >= stream.count // 2, 120, "half of the stream")
    worker.stop()
    make_worker("graceful-1", datadir=worker.datadir).start().wait_ready()
    stream.join()
    report(stream, duplicates=0)
