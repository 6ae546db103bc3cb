"""Scenario 1: the worker is killed (-9) five times mid-stream and restarted each time: nothing is lost."""

from __future__ import annotations

import pytest

from tests.harness import wait_until
from tests.reliability.stream import Stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_kill_9_the_worker_five_times_mid_stream(make_worker, kafka, settings, report) -> None:
    stream = Stream(settings, count=3000, rate=150, seed=11)
    stream.load_core_data()
    worker = make_worker("crash-0").start().wait_ready()
    stream.start()
    for n in range(1, 6):
        wait_until(lambda: stream.produced >= n * stream.count // 7, 120, f"{n}/7 of the stream")
        worker.kill()
        worker = make_worker(f"crash-{n}", datadir=worker.datadir).start().wait_ready()
    stream.join()
    report(stream)
