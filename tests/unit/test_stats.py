"""Worker statistics: totals, per campaign, and rates over the last minute."""

from __future__ import annotations

from pipeline.runtime.stats import Stats


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_totals_count_each_outcome_and_events_in_is_their_sum() -> None:
    stats = Stats(Clock())
    for outcome in ("accepted", "accepted", "rejected:bot", "dlq:malformed", "rerouted"):
        stats.count(outcome)
    assert stats.snapshot()["total"] == {
        "accepted": 2, "rejected:bot": 1, "dlq:malformed": 1, "rerouted": 1, "in": 4,
    }


def test_counts_are_kept_per_campaign() -> None:
    stats = Stats(Clock())
    stats.count("accepted", "c1")
    stats.count("rejected:budget_exhausted", "c1")
    stats.count("accepted", "c2")
    assert stats.campaign("c1") == {"accepted": 1, "rejected:budget_exhausted": 1}
    assert stats.campaign("unknown") == {}


def test_the_last_minute_holds_full_seconds_only_and_forgets_older_ones() -> None:
    clock = Clock()
    stats = Stats(clock)
    stats.count("accepted")  # second 1000
    clock.now = 1001.5
    stats.count("accepted")
    stats.count("accepted")
    assert stats.last_minute() == {"accepted": 1}  # second 1001 is not over yet
    clock.now = 1002.0
    assert stats.last_minute() == {"accepted": 3}
    assert stats.snapshot()["rates"]["accepted"] == 0.05
    clock.now = 1060.5  # second 1000 has left the window, 1001 has not
    assert stats.last_minute() == {"accepted": 2}
    clock.now = 1100.0
    assert stats.last_minute() == {}


def test_per_campaign_counts_are_bounded_and_forget_the_least_recently_counted_first() -> None:
    stats = Stats(Clock(), max_campaigns=3)
    for cid in ("c1", "c2", "c3"):
        stats.count("accepted", cid)
    stats.count("accepted", "c1")  # c1 counted again: c2 is now the least recent
    stats.count("accepted", "c4")
    assert list(stats.by_campaign) == ["c3", "c1", "c4"]
    assert stats.campaign("c2") == {} and stats.campaign("c1") == {"accepted": 2}
    assert stats.snapshot()["total"]["accepted"] == 5  # totals keep everything


def test_unique_campaign_ids_without_end_keep_the_map_at_its_bound() -> None:
    stats = Stats(Clock(), max_campaigns=1000)
    for n in range(50_000):
        stats.count("rejected:unknown_campaign", f"cmp-invented-{n}")
    assert len(stats.by_campaign) == 1000
    assert stats.snapshot()["total"]["rejected:unknown_campaign"] == 50_000
