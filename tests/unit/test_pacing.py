"""The token bucket on a fake clock: no sleeping, no timing assertions."""

from __future__ import annotations

import pytest

from pipeline.sim.pacing import TokenBucket


class FakeTime:
    def __init__(self, oversleep: float = 0.0) -> None:
        self.now = 100.0
        self.oversleep = oversleep
        self.takes: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds + self.oversleep


def take(bucket: TokenBucket, fake: FakeTime, times: int) -> list[float]:
    at = []
    for _ in range(times):
        bucket.take()
        at.append(fake.now)
    return at


def test_takes_are_spaced_one_over_the_rate_starting_at_once() -> None:
    fake = FakeTime()
    at = take(TokenBucket(200, clock=fake.clock, sleep=fake.sleep), fake, 100)
    assert at[0] == 100.0
    assert at[-1] - at[0] == pytest.approx(99 / 200)


def test_oversleeping_does_not_add_up_to_drift() -> None:
    fake = FakeTime(oversleep=0.001)  # every sleep returns 1 ms late: a fifth of the interval
    at = take(TokenBucket(200, clock=fake.clock, sleep=fake.sleep), fake, 1000)
    assert at[-1] - at[0] == pytest.approx(999 / 200, abs=0.002)


def test_after_a_pause_at_most_capacity_tokens_come_at_once() -> None:
    fake = FakeTime()
    bucket = TokenBucket(100, capacity=5, clock=fake.clock, sleep=fake.sleep)
    bucket.take()
    fake.now += 60.0  # a stalled broker
    resumed = fake.now
    at = take(bucket, fake, 10)
    assert at[:5] == [resumed] * 5
    assert at[5] > resumed


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0)
