"""SVG charts drawn on the server: axes, scaling, gaps, empty data, escaping, huge values."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree

import pytest

from pipeline.web import charts
from pipeline.web.charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, Chart, Line, Mark, Rule, draw

SVG = "{http://www.w3.org/2000/svg}"
PROBE = '<script>alert(1)</script>" onload="alert(2)'
BOTTOM_Y, RIGHT_X = HEIGHT - BOTTOM, WIDTH - RIGHT


def parsed(chart: Chart) -> ElementTree.Element:
    """The chart as an XML parser (and so live.js) reads it: markup that is not well-formed raises."""
    return ElementTree.fromstring(draw(chart))


def found(root: ElementTree.Element, tag: str, cls: str = "") -> list[ElementTree.Element]:
    return [e for e in root.iter(SVG + tag) if not cls or cls in e.get("class", "").split()]


def texts(root: ElementTree.Element, cls: str) -> list[str]:
    return [e.text or "" for e in found(root, "text", cls)]


def line(*ys: float | None, key: str = "accepted") -> Line:
    return Line(key, key, [(float(i), y) for i, y in enumerate(ys)])


@pytest.mark.parametrize(
    ("largest", "top", "step"),
    [(0, 1, 0.25), (-5, 1, 0.25), (1, 1, 0.25), (3, 4, 1), (7, 8, 2), (10, 10, 2.5), (10.5, 12, 3),
     (0.003, 0.004, 0.001), (4_999, 6_000, 1_500), (123_456, 200_000, 50_000)],
)
def test_the_y_axis_ends_at_a_round_number_at_or_above_the_largest_value(largest: float, top: float, step: float) -> None:
    assert charts.y_scale(largest) == pytest.approx((top, step))


@pytest.mark.parametrize("largest", [1e18, 7.3e42, 1e300, sys.float_info.max, sys.float_info.min])
def test_huge_and_tiny_values_get_an_axis_that_holds_them(largest: float) -> None:
    top, step = charts.y_scale(largest)
    assert top >= largest and top <= largest * 2.5 + sys.float_info.min and step == pytest.approx(top / 4)


@pytest.mark.parametrize(
    ("value", "label"),
    [(0, "0"), (5, "5"), (2.5, "2.5"), (0.25, "0.25"), (0.00025, "0.00025"), (1_000, "1k"), (1_250, "1.25k"),
     (999.9, "1k"), (1_234_567, "1.23M"), (5e9, "5G"), (2e12, "2T"), (3e15, "3P"), (1e18, "1E"), (1e21, "1e+21"), (sys.float_info.max, "1.8e+308"),
     (-2_000, "-2k")],
)
def test_tick_labels_are_short(value: float, label: str) -> None:
    assert charts.compact(value) == label


def test_axes_have_five_y_ticks_from_zero_and_the_x_ticks_inside_the_range() -> None:
    chart = Chart("t", 0, 100, x_ticks=[(0, "start"), (50, "middle"), (100, "end"), (101, "outside"), (-1, "before")],
                  lines=[line(0, 3)], y_unit="/s")
    root = parsed(chart)
    assert texts(root, "y") == ["0/s", "1/s", "2/s", "3/s", "4/s"]
    assert texts(root, "x") == ["start", "middle", "end"]
    assert [float(t.get("x")) for t in found(root, "text", "x")] == [LEFT, (LEFT + RIGHT_X) / 2, RIGHT_X]
    assert [t.get("text-anchor") for t in found(root, "text", "x")] == ["start", "middle", "end"]  # inside the box
    quarter = (BOTTOM_Y - TOP) / 4
    assert [float(g.get("y1")) for g in found(root, "line", "grid")] == [BOTTOM_Y - i * quarter for i in range(5)]


def test_values_are_scaled_onto_the_plot_and_clamped_to_it() -> None:
    chart = Chart("t", 10, 20, lines=[Line("a", "a", [(10, 0), (15, 5), (20, 10), (30, 20), (5, -3)])])
    path = found(parsed(chart), "path", "series-a")[0].get("d")
    middle, quarter = (LEFT + RIGHT_X) / 2, (BOTTOM_Y - TOP) / 4  # the axis ends at 20: 5 is a quarter up
    assert path == f"M{LEFT}.0,{BOTTOM_Y}.0 L{middle},{BOTTOM_Y - quarter} L{RIGHT_X}.0,{BOTTOM_Y - 2 * quarter}" \
                   f" L{RIGHT_X}.0,{TOP}.0 L{LEFT}.0,{BOTTOM_Y}.0"


def test_an_empty_range_draws_everything_at_its_start_rather_than_dividing_by_zero() -> None:
    path = found(parsed(Chart("t", 5, 5, lines=[line(1, 2)])), "path", "series-accepted")[0].get("d")
    assert path.startswith(f"M{LEFT}.0,")


def test_without_any_value_the_chart_says_so_and_still_has_its_axes_and_series() -> None:
    root = parsed(Chart("t", 0, 1, lines=[line(None, None), Line("rejected", "rejected", [])], empty="Nothing yet."))
    assert texts(root, "empty") == ["Nothing yet."]
    assert texts(root, "y") == ["0", "0.25", "0.5", "0.75", "1"]
    assert [p.get("d") for p in found(root, "path", "series")] == ["", ""]
    assert texts(root, "legend-label") == ["accepted", "rejected"]


def test_zeros_are_values_not_emptiness() -> None:
    root = parsed(Chart("t", 0, 1, lines=[line(0, 0)]))
    assert texts(root, "empty") == [] and found(root, "path", "series-accepted")[0].get("d") != ""


def test_one_point_is_a_dot() -> None:
    root = parsed(Chart("t", 0, 1, lines=[line(4)]))
    assert found(root, "path", "series-accepted")[0].get("d") == ""
    dot = found(root, "circle", "series-accepted")
    assert len(dot) == 1 and (dot[0].get("cx"), dot[0].get("cy")) == (f"{LEFT}.0", f"{TOP}.0")


def test_gaps_split_a_line_and_a_lone_value_between_gaps_is_a_dot() -> None:
    root = parsed(Chart("t", 0, 6, lines=[line(1, 1, None, 2, None, 3, 3)]))
    assert found(root, "path", "series-accepted")[0].get("d").count("M") == 2
    assert len(found(root, "circle", "dot")) == 1


def test_marks_and_rules_are_drawn_with_their_labels_and_count_for_the_scale() -> None:
    chart = Chart("t", 0, 10, marks=[Mark("spent", "spent 3.00", 8, 3)],
                  rules=[Rule("budget", "budget 10.00", 10), Rule("now", "now", 8, vertical=True)])
    root = parsed(chart)
    assert texts(root, "y")[-1] == "10"
    budget, now = found(root, "line", "rule")
    assert budget.get("y1") == budget.get("y2") == f"{TOP}.0"
    assert now.get("x1") == now.get("x2") == str(round(LEFT + 0.8 * (RIGHT_X - LEFT), 1))
    assert texts(root, "rule-label") == ["budget 10.00", "now"]
    assert texts(root, "mark-label") == ["spent 3.00"] and len(found(root, "circle", "series-spent")) == 1
    assert texts(root, "empty") == []


def test_every_text_is_escaped_and_reads_back_as_given() -> None:
    chart = Chart(PROBE, 0, 1, x_ticks=[(0, PROBE)], lines=[Line(PROBE, "<b>&amp;</b>", [(0, 1)])],
                  marks=[Mark("m", "a<b", 1, 1)], rules=[Rule("r", "'\"", 0.5)], y_unit="<u>", empty=PROBE)
    markup = draw(chart)
    assert "<script" not in markup and "<b>" not in markup and "<u>" not in markup
    root = ElementTree.fromstring(markup)
    assert [e.tag for e in root.iter()].count(SVG + "script") == 0
    assert all(not name.startswith("on") for e in root.iter() for name in e.attrib)
    assert root.get("aria-label") == PROBE and root.find(SVG + "title").text == PROBE
    assert texts(root, "x") == [PROBE]
    assert texts(root, "legend-label") == ["<b>&amp;</b>"]
    assert texts(root, "mark-label") == ["a<b"] and texts(root, "rule-label") == ["'\""]
    assert texts(root, "y")[-1] == "1<u>"
    assert found(root, "path", "series")[0].get("class") == "series series-script-alert-1-script-onload-alert-2"


def test_characters_xml_cannot_hold_are_dropped_so_the_chart_still_parses() -> None:
    hostile = "a\x00b\x1bc\ud800d\ufffee\U0001f600"
    root = parsed(Chart(hostile, 0, 1, lines=[Line("k", hostile, [(0, 1)])]))
    assert root.find(SVG + "title").text == "abcde\U0001f600"
    assert texts(root, "legend-label") == ["abcde\U0001f600"]


def test_long_labels_are_cut_so_the_legend_keeps_its_place() -> None:
    root = parsed(Chart("t", 0, 1, lines=[Line("a", "x" * 500, [(0, 1)]), Line("b", "second", [(0, 1)])]))
    first, second = texts(root, "legend-label")
    assert first == "x" * (charts.LABEL_CHARS - 1) + "…" and second == "second"
    assert float(found(root, "text", "legend-label")[1].get("x")) < WIDTH


@pytest.mark.parametrize("value", [1e300, sys.float_info.max, float("inf"), float("nan"), 10**400, -1e300])
def test_huge_or_impossible_values_never_reach_the_markup_as_inf_or_nan(value: float) -> None:
    markup = draw(Chart("t", 0, 2, lines=[line(1, value, 2)], marks=[Mark("m", "m", 1, value)],
                        rules=[Rule("r", "r", value)]))
    root = ElementTree.fromstring(markup)
    assert "inf" not in markup.lower() and "nan" not in markup.lower()
    coordinates = [float(v) for e in root.iter() for k, v in e.attrib.items() if k in ("x", "y", "cx", "cy", "y1")]
    assert all(0 <= c <= WIDTH for c in coordinates)


def test_huge_values_are_drawn_to_scale() -> None:
    root = parsed(Chart("t", 0, 1, lines=[line(2e18, 4e18)]))
    assert texts(root, "y")[-1] == "4E"
    assert found(root, "path", "series-accepted")[0].get("d") == f"M{LEFT}.0,{(TOP + BOTTOM_Y) / 2} L{RIGHT_X}.0,{TOP}.0"


@pytest.mark.parametrize(("key", "cls"), [("accepted", "accepted"), ("A B/c", "a-b-c"), ("", "x"), ("<>", "x")])
def test_keys_become_class_names_of_letters_digits_and_dashes(key: str, cls: str) -> None:
    assert charts.css_class(key) == cls
