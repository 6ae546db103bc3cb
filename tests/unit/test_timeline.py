"""Events per second by outcome over the last hour: per-minute buckets on a fake clock, summed over workers."""

from __future__ import annotations

import pytest

from pipeline.runtime.timeline import MINUTES, OUTCOMES, Timeline, minute_of, series


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


T0 = 1_700_000_400.0  # a minute's start


def test_a_minute_starts_on_its_epoch_minute() -> None:
    assert minute_of(T0) == T0
    assert minute_of(T0 + 59.999) == T0
    assert minute_of(T0 + 60) == T0 + 60


def test_outcomes_are_grouped_by_kind_and_moves_left_out() -> None:
    clock = Clock(T0 + 5)
    timeline = Timeline(clock)
    timeline.add([("accepted", 3), ("rejected:bot", 2), ("rejected:duplicate", 1), ("dlq:malformed", 4),
                  ("rerouted", 7)])
    assert timeline.snapshot() == {
        "started_at": T0 + 5, "minutes": [{"start": T0, "accepted": 3, "rejected": 3, "dlq": 4}],
    }


def test_batches_of_one_minute_add_up_and_the_next_minute_gets_its_own_bucket() -> None:
    clock = Clock(T0)
    timeline = Timeline(clock)
    timeline.add([("accepted", 1)])
    clock.now = T0 + 59.9
    timeline.add([("accepted", 2)])
    clock.now = T0 + 60
    timeline.add([("dlq:schema", 1)])
    assert [m["start"] for m in timeline.snapshot()["minutes"]] == [T0, T0 + 60]
    assert timeline.snapshot()["minutes"][0]["accepted"] == 3


def test_memory_is_bounded_to_an_hour_of_minutes_whatever_the_traffic() -> None:
    clock = Clock(T0)
    timeline = Timeline(clock)
    for minute in range(3 * MINUTES):
        clock.now = T0 + minute * 60
        for _ in range(10):
            timeline.add([("accepted", 1_000), ("rejected:r" + str(minute), 1)])
    minutes = timeline.snapshot()["minutes"]
    assert len(minutes) == MINUTES and len(timeline._minutes) == MINUTES
    assert minutes[0]["start"] == T0 + (2 * MINUTES) * 60 and minutes[-1]["start"] == clock.now
    assert all(set(m) == {"start", *OUTCOMES} for m in minutes)


def test_minutes_older_than_an_hour_leave_the_snapshot_even_without_new_traffic() -> None:
    clock = Clock(T0)
    timeline = Timeline(clock)
    timeline.add([("accepted", 1)])
    clock.now = T0 + (MINUTES - 1) * 60
    assert len(timeline.snapshot()["minutes"]) == 1
    clock.now = T0 + MINUTES * 60
    assert timeline.snapshot()["minutes"] == []


def test_a_clock_stepped_back_counts_into_the_newest_minute() -> None:
    clock = Clock(T0 + 120)
    timeline = Timeline(clock)
    timeline.add([("accepted", 1)])
    clock.now = T0
    timeline.add([("accepted", 1)])
    assert timeline.snapshot()["minutes"] == [{"start": T0 + 120, "accepted": 2, "rejected": 0, "dlq": 0}]


def test_a_full_minute_rate_is_its_count_over_sixty_seconds() -> None:
    snapshot = {"started_at": T0 - 3600, "minutes": [{"start": T0, "accepted": 120, "rejected": 6, "dlq": 0}]}
    drawn = series([snapshot], now=T0 + 60 + 30)
    assert drawn["minute_s"] == 60 and drawn["start"] == T0 + 60 - (MINUTES - 1) * 60
    accepted = drawn["outcomes"]["accepted"]
    assert len(accepted) == MINUTES and accepted[-2] == 2.0 and accepted[-1] == 0.0
    assert drawn["outcomes"]["rejected"][-2] == 0.1
    assert accepted[0] == 0.0  # the worker ran then: nothing counted is a rate of zero


def test_the_current_minute_is_rated_over_the_seconds_that_have_passed() -> None:
    snapshot = {"started_at": T0 - 3600, "minutes": [{"start": T0, "accepted": 30, "rejected": 0, "dlq": 0}]}
    assert series([snapshot], now=T0 + 15)["outcomes"]["accepted"][-1] == 2.0
    # A few milliseconds into a minute count as a second, not as a rate of thousands.
    assert series([snapshot], now=T0 + 0.001)["outcomes"]["accepted"][-1] == 30.0


def test_minutes_before_a_worker_started_are_gaps_and_its_first_minute_counts_from_its_start() -> None:
    snapshot = {"started_at": T0 + 40, "minutes": [{"start": T0, "accepted": 40, "rejected": 0, "dlq": 0}]}
    accepted = series([snapshot], now=T0 + 60)["outcomes"]["accepted"]
    assert accepted[-2] == 2.0  # 40 events in the 20 seconds it ran
    assert accepted[-1] == 0.0  # the minute that has just begun
    assert accepted[:-2] == [None] * (MINUTES - 2)


def test_no_worker_gives_an_hour_of_gaps() -> None:
    drawn = series([], now=T0)
    assert drawn["outcomes"] == {outcome: [None] * MINUTES for outcome in OUTCOMES}


def test_workers_rates_are_summed_minute_by_minute() -> None:
    old = {"started_at": T0 - 3600, "minutes": [{"start": T0 - 60, "accepted": 60, "rejected": 0, "dlq": 6},
                                                {"start": T0, "accepted": 30, "rejected": 0, "dlq": 0}]}
    new = {"started_at": T0 - 30, "minutes": [{"start": T0 - 60, "accepted": 30, "rejected": 3, "dlq": 0},
                                              {"start": T0, "accepted": 60, "rejected": 0, "dlq": 0}]}
    outcomes = series([old, new], now=T0 + 60)["outcomes"]
    # The newer worker saw only the last 30 seconds of minute T0 - 60.
    assert outcomes["accepted"][-3:] == [1.0 + 1.0, 0.5 + 1.0, 0.0]
    assert outcomes["rejected"][-3:] == [0.1, 0.0, 0.0]
    assert outcomes["dlq"][-3:] == [0.1, 0.0, 0.0]
    assert outcomes["accepted"][-4] == 0.0  # only the older worker ran then


@pytest.mark.parametrize("now", [T0, T0 + 0.5, T0 + 59.5])
def test_a_peer_whose_clock_is_ahead_adds_nothing_beyond_now(now: float) -> None:
    ahead = {"started_at": T0 - 3600, "minutes": [{"start": T0 + 60, "accepted": 999, "rejected": 0, "dlq": 0}]}
    drawn = series([ahead], now=now)
    assert drawn["outcomes"]["accepted"][-1] == 0.0
    assert 999 not in [v for values in drawn["outcomes"].values() for v in values]
