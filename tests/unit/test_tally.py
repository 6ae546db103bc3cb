"""Warnings an attacker cannot multiply: a count per reason per interval, with one place as example."""

from __future__ import annotations

from pipeline.runtime.tally import Place, Report, Tally
from tests.unit.test_stats import Clock


def texts(reports: list[Report]) -> list[str]:
    return [report.text for report in reports]


def test_the_first_occurrence_is_reported_at_once() -> None:
    tally = Tally("dead-lettered", 10.0, Clock())
    assert texts(tally.add("malformed", "tracking.raw[0]@5")) == ["dead-lettered 1 record as malformed, e.g. tracking.raw[0]@5"]


def test_a_burst_is_one_line_per_reason_once_the_interval_has_passed() -> None:
    clock = Clock()
    tally = Tally("dead-lettered", 10.0, clock)
    tally.add("malformed", "tracking.raw[0]@0")
    lines = []
    for n in range(1, 500):
        clock.now += 0.01
        lines += tally.add("schema" if n % 2 else "malformed", f"tracking.raw[1]@{n}")
    assert lines == []
    clock.now += 5.1
    assert texts(tally.add("malformed", "tracking.raw[1]@500")) == [
        "dead-lettered 250 records as malformed, e.g. tracking.raw[1]@2",
        "dead-lettered 250 records as schema, e.g. tracking.raw[1]@1",
    ]


def test_flush_reports_nothing_before_the_interval_and_everything_after() -> None:
    clock = Clock()
    tally = Tally("dead-lettered", 10.0, clock)
    tally.add("oversized", "a")
    tally.add("oversized", "b")
    assert tally.flush() == []
    clock.now += 10.0
    assert texts(tally.flush()) == ["dead-lettered 1 record as oversized, e.g. b"]
    assert tally.flush() == []


def test_a_forced_flush_reports_what_is_left_and_nothing_twice() -> None:
    clock = Clock()
    tally = Tally("dead-lettered", 10.0, clock)
    tally.add("control", "a")
    tally.add("control", "b")
    tally.add("control", "c")
    assert texts(tally.flush(force=True)) == ["dead-lettered 2 records as control, e.g. b"]
    assert tally.flush(force=True) == []


def test_lines_per_interval_are_bounded_by_the_reasons_not_the_records() -> None:
    clock = Clock()
    tally = Tally("dead-lettered", 10.0, clock)
    lines = []
    for n in range(100_000):
        clock.now += 0.001  # 100 s of records at 1000 per second
        lines += tally.add("malformed", f"tracking.raw[0]@{n}")
    assert len(lines) <= 11
    assert sum(int(line.text.split()[1]) for line in lines + tally.flush(force=True)) == 100_000


def test_a_report_names_its_example_place_in_text_and_as_log_fields() -> None:
    tally = Tally("dead-lettered", 10.0, Clock())
    [report] = tally.add("schema", Place("coredata.updates", 0, 7))
    assert str(report) == "dead-lettered 1 record as schema, e.g. coredata.updates[0]@7"
    assert report.fields == {"topic": "coredata.updates", "partition": 0, "offset": 7}


def test_an_example_given_as_text_has_no_log_fields() -> None:
    [report] = Tally("dead-lettered", 10.0, Clock()).add("schema", "tracking.batch[1]@2")
    assert report.fields == {}
