"""Budget pacing verdicts: spend against even delivery over the flight, and why where it does not apply."""

from __future__ import annotations

import pytest

from pipeline.domain.budget_pacing import TOLERANCE, Verdict, pacing

DAY = 86_400_000
START, END = 1_700_000_000_000, 1_700_000_000_000 + 10 * DAY
TOTAL = 1_000 * 1_000_000  # 1,000.00 in micros


def at(day: float) -> int:
    return START + int(day * DAY)


@pytest.mark.parametrize(
    ("spent", "verdict"),
    [(300_000_000, Verdict.ON_TRACK), (int(300_000_000 * (1 + TOLERANCE)), Verdict.ON_TRACK),
     (int(300_000_000 * (1 - TOLERANCE)), Verdict.ON_TRACK), (331_000_000, Verdict.AHEAD),
     (269_000_000, Verdict.BEHIND), (0, Verdict.BEHIND), (TOTAL, Verdict.AHEAD)],
)
def test_three_days_into_ten_even_delivery_has_spent_three_tenths(spent: int, verdict: Verdict) -> None:
    found = pacing(TOTAL, spent, START, END, at(3))
    assert found.expected_micros == 300_000_000 and found.elapsed == pytest.approx(0.3)
    assert found.pace == pytest.approx(spent / 300_000_000)
    assert found.verdict is verdict


def test_expected_spend_is_exact_in_micros_and_never_beyond_the_total() -> None:
    assert pacing(3, 0, 0, 3 * DAY, DAY).expected_micros == 1
    assert pacing(3, 0, 0, 3 * DAY, 2 * DAY - 1).expected_micros == 1  # 1.99… micros, rounded down
    assert pacing(TOTAL, 0, START, END, at(99)).expected_micros == TOTAL
    assert pacing(10**30, 0, START, END, at(5)).expected_micros == 5 * 10**29  # integers: no float rounding


def test_at_the_very_start_nothing_is_expected_and_any_spend_is_ahead() -> None:
    assert pacing(TOTAL, 0, START, END, START).verdict is Verdict.ON_TRACK
    found = pacing(TOTAL, 1, START, END, START)
    assert (found.verdict, found.pace, found.expected_micros) == (Verdict.AHEAD, None, 0)


@pytest.mark.parametrize(
    ("total", "spent", "end", "now", "verdict"),
    [(TOTAL, None, END, at(3), Verdict.UNKNOWN), (None, 5, END, at(3), Verdict.NO_BUDGET),
     (TOTAL, 0, END, at(-1), Verdict.NOT_STARTED), (TOTAL, 5, None, at(3), Verdict.NO_END),
     (TOTAL, 5, END, END, Verdict.ENDED), (TOTAL, TOTAL, END, at(20), Verdict.ENDED),
     (None, None, None, at(-1), Verdict.UNKNOWN), (TOTAL, 0, START, START, Verdict.ENDED)],
)
def test_where_pacing_does_not_apply_the_verdict_says_why(
    total: int | None, spent: int | None, end: int | None, now: int, verdict: Verdict
) -> None:
    assert pacing(total, spent, START, end, now).verdict is verdict


def test_before_the_start_and_after_the_end_the_elapsed_share_stays_within_the_flight() -> None:
    assert pacing(TOTAL, 0, START, END, at(-5)).elapsed == 0
    after = pacing(TOTAL, 800_000_000, START, END, at(50))
    assert (after.elapsed, after.expected_micros, after.pace) == (1, TOTAL, 0.8)


def test_without_an_end_or_a_budget_there_is_no_expected_spend() -> None:
    open_ended = pacing(TOTAL, 5, START, None, at(3))
    assert (open_ended.expected_micros, open_ended.pace, open_ended.elapsed) == (None, None, None)
    no_budget = pacing(None, 5, START, END, at(3))
    assert (no_budget.expected_micros, no_budget.pace, no_budget.elapsed) == (None, None, pytest.approx(0.3))


def test_verdicts_read_as_words() -> None:
    assert [str(v) for v in (Verdict.ON_TRACK, Verdict.AHEAD, Verdict.BEHIND)] == ["on track", "ahead", "behind"]
