"""Line charts as SVG, drawn on the server: pure, no Faust, no JavaScript.

A ``Chart`` says what to draw in data units: lines (a ``None`` value is a gap), marked points, reference
rules and labelled x ticks. ``draw`` scales it onto a fixed view box, the y axis from 0 to a round number
at or above the largest value, and returns the ``<svg>`` markup. Every text goes through ``text``,
which escapes it and drops what XML cannot hold, so the markup is valid inline in a page and as XML,
which is how ``static/live.js`` parses it to swap a chart in place. Colours come from the page's
stylesheet through the class names (``series-<key>``); the markup has no style and no script.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Callable, Sequence

WIDTH, HEIGHT = 960, 240
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 30, 26  # room for y tick labels, the last x label, the legend, x labels
Y_TICKS = 4
LABEL_CHARS = 40
CHAR_PX = 7  # about one character of the legend's font, to place the next entry
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_A_CLASS = re.compile("[^a-z0-9_-]+")
_SUFFIXES = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


@dataclasses.dataclass(frozen=True)
class Line:
    key: str  # its class is series-<key>
    label: str  # in the legend
    points: Sequence[tuple[float, float | None]]  # (x, y), x ascending; y None is a gap
    dashed: bool = False


@dataclasses.dataclass(frozen=True)
class Mark:
    key: str
    label: str  # written next to the point
    x: float
    y: float


@dataclasses.dataclass(frozen=True)
class Rule:
    key: str
    label: str  # written at its end
    at: float  # y of a horizontal rule, x of a vertical one
    vertical: bool = False


@dataclasses.dataclass(frozen=True)
class Chart:
    title: str
    x_min: float
    x_max: float
    x_ticks: Sequence[tuple[float, str]] = ()
    lines: Sequence[Line] = ()
    marks: Sequence[Mark] = ()
    rules: Sequence[Rule] = ()
    y_unit: str = ""  # after each y tick label, e.g. "/s"
    empty: str = "No data yet."  # written across the plot when no line has a value and there is no mark


def text(value: object) -> str:
    """``value`` as text for HTML and XML: escaped, without the characters XML 1.0 cannot hold."""
    return html.escape(_XML_INVALID.sub("", str(value)), quote=True)


def short(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def css_class(key: str) -> str:
    return _NOT_A_CLASS.sub("-", key.lower()).strip("-") or "x"


def finite(value: object) -> float | None:
    """A drawable float, or None (gaps for what is missing, infinite or too large for a float)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (OverflowError, TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def compact(value: float) -> str:
    """A tick label: three significant digits, thousands as k, M, G, T, P, E."""
    rounded = float(f"{value:.3g}")  # 999.9 is 1k, not 1e+03
    if math.isfinite(rounded):  # the largest floats round up beyond what a float holds
        value = rounded
    if value == 0:
        return "0"
    for factor, suffix in _SUFFIXES:
        if abs(value) >= factor and abs(value) < factor * 1000:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


def y_scale(largest: float) -> tuple[float, float]:
    """(top, step): ``Y_TICKS`` steps of 1, 1.5, 2, 2.5, 3 or 5 times a power of ten, the top at or above ``largest``."""
    if not largest > 0:
        return 1.0, 1.0 / Y_TICKS
    magnitude = 10.0 ** math.floor(math.log10(largest / Y_TICKS))
    for multiple in (1, 1.5, 2, 2.5, 3, 5, 10):
        step = multiple * magnitude
        if step * Y_TICKS >= largest:
            break
    top = step * Y_TICKS
    if not math.isfinite(top):  # near the largest float: the axis ends at the value itself
        return largest, largest / Y_TICKS
    return top, step


def draw(chart: Chart) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = chart.x_max - chart.x_min if chart.x_max > chart.x_min else 1.0
    values = [y for line in chart.lines for _, y in line.points if finite(y) is not None]
    values += [m.y for m in chart.marks if finite(m.y) is not None]
    values += [r.at for r in chart.rules if not r.vertical and finite(r.at) is not None]
    top, step = y_scale(max((finite(v) or 0.0 for v in values), default=0.0))

    def sx(x: float) -> float:
        return round(LEFT + min(max((x - chart.x_min) / span, 0.0), 1.0) * plot_w, 1)

    def sy(y: float) -> float:
        return round(TOP + plot_h - min(max(y / top, 0.0), 1.0) * plot_h, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
             f' aria-label="{text(chart.title)}"><title>{text(chart.title)}</title>']
    for i in range(Y_TICKS + 1):
        y = sy(i * step)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}"/>'
                     f'<text class="tick y" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">'
                     f"{text(compact(i * step) + chart.y_unit)}</text>")
    for x, label in chart.x_ticks:
        if finite(x) is not None and chart.x_min <= x <= chart.x_max:
            # The labels at either end stay inside the picture.
            anchor = "start" if x == chart.x_min else "end" if x == chart.x_max else "middle"
            parts.append(f'<line class="tick" x1="{sx(x)}" y1="{TOP + plot_h}" x2="{sx(x)}" y2="{TOP + plot_h + 4}"/>'
                         f'<text class="tick x" x="{sx(x)}" y="{HEIGHT - 8}" text-anchor="{anchor}">{text(label)}</text>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>')
    for rule in chart.rules:
        at = finite(rule.at)
        if at is None:
            continue
        if rule.vertical:
            x1 = x2 = sx(at)
            y1, y2, lx, ly, anchor = TOP, TOP + plot_h, sx(at) + 4, TOP + 10, "start"
        else:
            y1 = y2 = sy(at)
            x1, x2, lx, ly, anchor = LEFT, WIDTH - RIGHT, WIDTH - RIGHT, sy(at) - 4, "end"
        parts.append(f'<line class="rule rule-{css_class(rule.key)}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>'
                     f'<text class="rule-label" x="{lx}" y="{ly}" text-anchor="{anchor}">{text(short(rule.label))}</text>')
    for line in chart.lines:
        parts.append(_line(line, sx, sy))
    for mark in chart.marks:
        x, y = finite(mark.x), finite(mark.y)
        if x is None or y is None:
            continue
        anchor = "end" if sx(x) > LEFT + plot_w / 2 else "start"
        dx = -6 if anchor == "end" else 6
        parts.append(f'<circle class="mark series-{css_class(mark.key)}" cx="{sx(x)}" cy="{sy(y)}" r="4"/>'
                     f'<text class="mark-label" x="{sx(x) + dx}" y="{sy(y) - 6}" text-anchor="{anchor}">'
                     f"{text(short(mark.label))}</text>")
    if not values:
        parts.append(f'<text class="empty" x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle">'
                     f"{text(short(chart.empty, 2 * LABEL_CHARS))}</text>")
    parts.append(_legend(chart.lines))
    parts.append("</svg>")
    return "".join(parts)


def _line(line: Line, sx: Callable[[float], float], sy: Callable[[float], float]) -> str:
    """A path of the line's runs of values (empty without any); a lone value between gaps is also a dot,
    which a path alone would not show."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in line.points:
        fx, fy = finite(x), finite(y)
        if fx is None or fy is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((sx(fx), sy(fy)))
    key = css_class(line.key)
    dashed = " dashed" if line.dashed else ""
    path = " ".join("M" + " L".join(f"{x},{y}" for x, y in run) for run in runs if len(run) > 1)
    dots = "".join(f'<circle class="dot series-{key}" cx="{run[0][0]}" cy="{run[0][1]}" r="2.5"/>'
                   for run in runs if len(run) == 1)
    return f'<path class="series series-{key}{dashed}" d="{path}"/>{dots}'


def _legend(lines: Sequence[Line]) -> str:
    parts, x = ['<g class="legend">'], LEFT
    for line in lines:
        key, label = css_class(line.key), short(line.label)
        dashed = " dashed" if line.dashed else ""
        parts.append(f'<line class="series series-{key}{dashed}" x1="{x}" y1="12" x2="{x + 18}" y2="12"/>'
                     f'<text class="legend-label" x="{x + 24}" y="16">{text(label)}</text>')
        x += 24 + CHAR_PX * len(label) + 16
    parts.append("</g>")
    return "".join(parts)
