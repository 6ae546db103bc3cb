"""The pages' charts: what they draw from the workers' timelines and from a campaign's budget and flight."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from pipeline.runtime.timeline import MINUTES
from pipeline.web import figures

SVG = "{http://www.w3.org/2000/svg}"
DAY = 86_400_000
START = 1_767_225_600_000  # 2026-01-01 00:00 UTC
T0 = 1_767_225_600  # the same, in seconds


def classes(svg: str, tag: str) -> list[str]:
    return [e.get("class", "") for e in ElementTree.fromstring(svg).iter(SVG + tag)]


def texts(svg: str, cls: str) -> list[str]:
    return [e.text or "" for e in ElementTree.fromstring(svg).iter(SVG + "text") if cls in e.get("class", "").split()]


def test_throughput_has_a_line_per_outcome_and_clock_ticks_every_quarter_hour() -> None:
    worker = {"started_at": T0 - 7200, "minutes": [{"start": T0, "accepted": 600, "rejected": 60, "dlq": 6}]}
    series, svg = figures.throughput([worker], now=T0 + 60 + 1)
    assert series["start"] == T0 + 60 - (MINUTES - 1) * 60 and series["outcomes"]["accepted"][-2] == 10.0
    assert [c for c in classes(svg, "path")] == ["series series-accepted", "series series-rejected", "series series-dlq"]
    assert texts(svg, "legend-label") == ["accepted", "rejected", "dead-lettered"]
    assert texts(svg, "x") == ["23:15", "23:30", "23:45", "00:00"]
    assert texts(svg, "y")[-1] == "10/s" and texts(svg, "empty") == []


def test_throughput_without_any_worker_timeline_says_so() -> None:
    series, svg = figures.throughput([], now=T0)
    assert set(series["outcomes"]["dlq"]) == {None}
    assert texts(svg, "empty") == ["No worker has counted events in the last hour."]


def test_a_campaign_behind_its_even_delivery() -> None:
    model, svg = figures.campaign_pacing(1_000_000_000, 100_000_000, START, START + 10 * DAY, START + 5 * DAY)
    assert model == {"verdict": "behind", "summary": "Spent 20% of what even delivery would have by now, 50% into"
                     " the flight.", "pace": 0.2, "elapsed": 0.5, "spent": 100.0, "total": 1000.0, "expected": 500.0,
                     "start_ts": START, "end_ts": START + 10 * DAY, "at": START + 5 * DAY}
    assert "series series-plan dashed" in classes(svg, "path") and "series series-spent" in classes(svg, "path")
    assert texts(svg, "rule-label") == ["budget 1,000.00", "now"]
    assert texts(svg, "mark-label") == ["spent 100.00"]
    assert texts(svg, "x") == ["2026-01-01 00:00 UTC", "01-06 00:00", "2026-01-11 00:00 UTC"]


def test_a_short_flight_has_short_time_ticks_and_ahead_says_by_how_much() -> None:
    model, svg = figures.campaign_pacing(10_000_000, 9_000_000, START, START + DAY, START + DAY // 2)
    assert model["verdict"] == "ahead" and model["summary"].startswith("Spent 180% of what even delivery")
    assert texts(svg, "x") == ["01-01 00:00", "01-02 00:00"]


def test_an_open_ended_flight_has_no_even_delivery_line_and_ends_now() -> None:
    model, svg = figures.campaign_pacing(10_000_000, 2_000_000, START, None, START + 3 * DAY)
    assert (model["verdict"], model["expected"], model["pace"]) == ("no end date", None, None)
    assert classes(svg, "path") == ["series series-spent"]
    assert texts(svg, "x")[-1] == "now" and texts(svg, "rule-label") == ["budget 10.00"]


def test_without_a_budget_or_a_known_spend_the_chart_says_what_it_knows() -> None:
    model, svg = figures.campaign_pacing(None, 2_000_000, START, START + 10 * DAY, START + DAY)
    assert model["verdict"] == "no budget" and model["summary"] == "No budget: nothing to pace against."
    assert classes(svg, "path") == ["series series-spent"] and texts(svg, "rule-label") == ["now"]
    model, svg = figures.campaign_pacing(10_000_000, None, START, START + 10 * DAY, START + DAY)
    assert model["verdict"] == "spend unknown" and model["spent"] is None
    assert texts(svg, "mark-label") == [] and "series series-plan dashed" in classes(svg, "path")


def test_before_the_flight_and_after_it() -> None:
    model, svg = figures.campaign_pacing(10_000_000, 0, START, START + DAY, START - DAY)
    assert model["summary"] == "The flight starts 2026-01-01 00:00 UTC." and texts(svg, "mark-label") == []
    model, svg = figures.campaign_pacing(10_000_000, 7_500_000, START, START + DAY, START + 2 * DAY)
    assert (model["verdict"], model["summary"]) == ("ended", "The flight is over; 75% of the budget was spent.")
    assert texts(svg, "rule-label") == ["budget 10.00"]  # now is past the chart's end
    assert figures.campaign_pacing(0, 0, START, START + DAY, START + 2 * DAY)[0]["summary"] == "The flight is over."


def test_the_flight_start_instant_expects_nothing_yet() -> None:
    model, _ = figures.campaign_pacing(10_000_000, 0, START, START + DAY, START)
    assert model["verdict"] == "on track" and model["summary"] == "Nothing is due yet at the flight's start; spent 0.00."
