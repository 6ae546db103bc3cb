"""Scenario 4: the broker freezes (SIGSTOP) for 20 s mid-stream: nothing is lost and no consumer stays stuck."""

from __future__ import annotations

import time

import pytest

from tests.harness import Worker, wait_until
from tests.reliability.stream import Stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STALL_S = 20.0
SETTLE_S = 2.0  # acks already on their way when the broker froze may still arrive during this


def ride_out(worker: Worker, seconds: float) -> None:
    """Let ``seconds`` pass (the freeze is the scenario, not a wait), checking the worker stays alive."""
    end = time.monotonic() + seconds

    def over() -> bool:
        assert worker.process is not None and worker.process.poll() is None, "the worker died in the stall"
        return time.monotonic() >= end

    wait_until(over, seconds + 5, "the end of the stall", interval=0.5)


def test_a_20_s_broker_stall_mid_stream_loses_nothing(broker, make_worker, kafka, settings, report) -> None:
    stream = Stream(settings, count=4500, rate=150, seed=14)
    stream.load_core_data()
    worker = make_worker("stall-0").start().wait_ready()
    stream.start()
    wait_until(lambda: stream.produced >= stream.count // 5, 120, "a fifth of the stream")

    broker.pause()
    try:
        ride_out(worker, SETTLE_S)
        frozen_at = stream.produced
        ride_out(worker, STALL_S - SETTLE_S)
        assert stream.produced == frozen_at, "the broker acknowledged while frozen: the stall did not happen"
    finally:
        broker.resume()

    assert stream.produced < stream.count, "the stall must happen mid-stream"
    wait_until(lambda: stream.produced > frozen_at, 60, "the producer to resume after the stall")
    stream.join()  # the producer survived: no errors, every event acknowledged
    report(stream)
