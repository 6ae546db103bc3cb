"""Scenario 3: a second worker joins mid-stream, later the first one leaves: the stream goes on, nothing is lost."""

from __future__ import annotations

import pytest

from tests.harness import tracking_assignments, wait_until
from tests.reliability.stream import Stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]



def test_a_worker_joins_and_the_first_one_leaves_mid_stream(make_worker, kafka, settings, report) -> None:
    stream = Stream(settings, count=4500, rate=150, seed=13)
    stream.load_core_data()
    first = make_worker("rebalance-0").start().wait_ready()
    wait_until(lambda: tracking_assignments(first) == 1, 60, "the first worker to take every partition")
    stream.start()

    wait_until(lambda: stream.produced >= stream.count // 6, 120, "a sixth of the stream")
    second = make_worker("rebalance-1").start().wait_ready()
    wait_until(lambda: tracking_assignments(first) >= 2, 60, "the first worker to give partitions to the second")
    assert stream.produced < stream.count, "the join must happen mid-stream"

    at_leave = stream.produced + stream.count // 10
    wait_until(lambda: stream.produced >= at_leave, 120, "the stream to go on with two workers")
    before = tracking_assignments(second)
    first.stop()
    wait_until(lambda: tracking_assignments(second) > before, 60, "the second worker to take every partition")
    assert stream.produced < stream.count, "the leave must happen mid-stream"

    stream.join()
    report(stream)
