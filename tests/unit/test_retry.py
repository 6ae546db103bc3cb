"""The backoff between sends Kafka refused for a passing reason: doubling, capped, within the deadline."""

from __future__ import annotations

import pytest

from pipeline.kafka.retry import Backoff


def test_the_wait_doubles_from_the_first_up_to_the_cap() -> None:
    backoff = Backoff(first_s=0.1, max_s=1.0)
    assert [backoff.delay(n, left_s=60.0) for n in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_a_retry_that_could_not_start_before_the_deadline_is_none() -> None:
    backoff = Backoff(first_s=0.5, max_s=2.0)
    assert backoff.delay(0, left_s=0.6) == 0.5
    assert backoff.delay(1, left_s=1.0) is None
    assert backoff.delay(0, left_s=0.5) is None
    assert backoff.delay(0, left_s=-1.0) is None


def test_a_long_run_of_retries_stays_at_the_cap() -> None:
    assert Backoff(first_s=0.1, max_s=2.0).delay(10_000, left_s=60.0) == 2.0
