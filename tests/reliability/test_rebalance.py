"""Scenario 3: a second worker joins mid-stream, later the first one leaves: the stream goes on, nothing is lost."""

from __future__ import annotations

import pytest

from tests.harness import tracking_assignments, wait_until
from tests.reliability.stream import Stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]



def test_a_worker_joins_and_the_first_one_leaves_mid_stream(make_worker, kafka, settings, report) -> None:
    # Produced until the leave is over and a while after: both rebalances fall mid-stream however slow they are.
    stream = Stream(settings, count=100_000, rate=150, seed=13)
    step = 450
    stream.load_core_data()
    first = make_worker("rebalance-0").start().wait_ready()
    wait_until(lambda: tracking_assignments(first) == 1, 60, "the first worker to take every partition")
    stream.start()

    wait_until(lambda: stream.produced >= 2 * step, 120, "the stream to flow to one worker")
    second = make_worker("rebalance-1").start().wait_ready()
    wait_until(lambda: tracking_assignments(first) >= 2, 60, "the first worker to give partitions to the second")

    at_leave = stream.produced + step
    wait_until(lambda: stream.produced >= at_leave, 120, "the stream to go on with two workers")
    before = tracking_assignments(second)
    first.stop()
    wait_until(lambda: tracking_assignments(second) > before, 60, "the second worker to take every partition")
    after_leave = stream.produced + step
    wait_until(lambda: stream.produced >= after_leave, 120, "the stream to go on with the second worker alone")
    stream.stop()
    stream.join()
    report(stream)
