"""What the pages' charts show, as JSON twin pieces and ``charts.Chart``s. Pure, no Faust.

The dashboard: events per second by outcome over the last hour, summed over the workers' timelines.
A campaign page: its spend against its budget and flight, with the pacing verdict. Spend is known now
and at the flight's start (nothing), not in between: the spend line joins those two points, which is
the campaign's average pace, and is labelled so; even delivery is the straight line from nothing at the
start to the whole budget at the end.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.domain.budget_pacing import Pacing, Verdict, pacing
from pipeline.domain.pricing import from_micros
from pipeline.runtime.timeline import series
from pipeline.web import charts

Row = dict[str, Any]
OUTCOME_LABELS = {"accepted": "accepted", "rejected": "rejected", "dlq": "dead-lettered"}
TICK_EVERY_S = 15 * 60
DAY_MS = 86_400_000


def throughput(snapshots: Sequence[Mapping[str, Any]], now: float) -> tuple[Row, str]:
    """The dashboard twin's ``throughput`` (per-second rates by outcome, a minute apart) and its chart."""
    found = series(snapshots, now)
    start, step = found["start"], found["minute_s"]
    end = start + (len(found["outcomes"]["accepted"]) - 1) * step
    first_tick = -(-start // TICK_EVERY_S) * TICK_EVERY_S
    ticks = [(t, time.strftime("%H:%M", time.gmtime(t))) for t in range(first_tick, end + 1, TICK_EVERY_S)]
    lines = [charts.Line(outcome, OUTCOME_LABELS.get(outcome, outcome),
                         [(start + i * step, rate) for i, rate in enumerate(rates)])
             for outcome, rates in found["outcomes"].items()]
    chart = charts.Chart("Events per second by outcome over the last hour, a point a minute (UTC)", start, end,
                         ticks, lines, y_unit="/s", empty="No worker has counted events in the last hour.")
    return found, charts.draw(chart)


def money(micros: int | None) -> float | None:
    return None if micros is None else from_micros(micros)


def label_money(amount: float) -> str:
    return f"{amount:,.2f}"


def when(ms: int, short: bool = False) -> str:
    return time.strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000))


def summary(found: Pacing, start_ms: int) -> str:
    """One sentence for people: what the verdict rests on, or why there is none."""
    if found.verdict in (Verdict.ON_TRACK, Verdict.AHEAD, Verdict.BEHIND):
        into = f"{found.elapsed:.0%} into the flight" if found.elapsed is not None else ""
        if found.pace is None:
            return f"Nothing is due yet at the flight's start; spent {label_money(money(found.spent_micros) or 0)}."
        return f"Spent {found.pace:.0%} of what even delivery would have by now, {into}."
    if found.verdict is Verdict.ENDED and found.total_micros:
        return f"The flight is over; {(found.spent_micros or 0) / found.total_micros:.0%} of the budget was spent."
    return {
        Verdict.UNKNOWN: "The worker that holds this campaign's spend did not answer.",
        Verdict.NO_BUDGET: "No budget: nothing to pace against.",
        Verdict.NOT_STARTED: f"The flight starts {when(start_ms)}.",
        Verdict.NO_END: "No end date: even delivery needs the flight's end.",
    }.get(found.verdict, "The flight is over.")


def campaign_pacing(total_micros: int | None, spent_micros: int | None, start_ms: int, end_ms: int | None,
                    now_ms: int) -> tuple[Row, str]:
    """The campaign twin's ``pacing`` and the chart of spend against budget and flight."""
    found = pacing(total_micros, spent_micros, start_ms, end_ms, now_ms)
    model = {
        "verdict": str(found.verdict),
        "summary": summary(found, start_ms),
        "pace": None if found.pace is None else round(found.pace, 3),
        "elapsed": None if found.elapsed is None else round(found.elapsed, 3),
        "spent": money(found.spent_micros),
        "total": money(found.total_micros),
        "expected": money(found.expected_micros),
        "start_ts": start_ms,
        "end_ts": end_ms,
        "at": now_ms,
    }
    return model, charts.draw(pacing_chart(model))


def pacing_chart(model: Mapping[str, Any]) -> charts.Chart:
    start, end, now = model["start_ts"], model["end_ts"], model["at"]
    total, spent = model["total"], model["spent"]
    x_max = end if end is not None else max(now, start + 1)
    short = x_max - start < 2 * DAY_MS
    ticks = [(start, when(start, short)), (x_max, when(x_max, short) if end is not None else "now")]
    if x_max - start >= 2 * DAY_MS:
        ticks.insert(1, ((start + x_max) // 2, when((start + x_max) // 2, True)))
    lines, marks, rules = [], [], []
    if total is not None:
        rules.append(charts.Rule("budget", f"budget {label_money(total)}", total))
        if end is not None:
            lines.append(charts.Line("plan", "even delivery", [(start, 0.0), (end, total)], dashed=True))
    if spent is not None and now >= start:
        at = min(now, x_max)
        lines.append(charts.Line("spent", "spent, at its average pace", [(start, 0.0), (at, spent)]))
        marks.append(charts.Mark("spent", f"spent {label_money(spent)}", at, spent))
    if start <= now <= x_max and end is not None:
        rules.append(charts.Rule("now", "now", now, vertical=True))
    return charts.Chart("Spend against budget over the flight (UTC)", start, x_max, ticks, lines, marks, rules,
                        empty="No spend known.")
