"""What each page shows, as data: its JSON twin, from which its HTML is drawn. Pure, no Faust, no HTML.

Every model is served as it is for ``.json`` (or ``Accept: application/json``) and handed to the page's
template (``pipeline.web.render``); the charts in ``charts`` are SVG markup drawn by ``pipeline.web.charts``.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from pipeline.archive.resume import Hour
from pipeline.domain.pricing import from_micros, to_micros
from pipeline.runtime.stats import WINDOW_S
from pipeline.web import figures
from pipeline.web.paging import Page, page_href

Row = dict[str, Any]
#: entity -> its table's name in the menu and in /tables/<name>
ENTITY_TABLES = {"campaign": "campaigns", "publisher": "publishers", "slot": "slots", "budget": "budgets"}
#: What a campaign page shows of each of its notifications on coredata.changes.
NOTIFICATION_FIELDS = ("at", "entity", "op", "version", "changed_fields")


@dataclasses.dataclass(frozen=True)
class Identity:
    """Which worker answers: its canonical URL, app id, tracking.raw partitions, and who forwarded to it."""

    url: str
    app_id: str
    partitions: Sequence[int] = ()
    via: str | None = None


# ---- dashboard -------------------------------------------------------------------------------

def dashboard_model(workers: Sequence[Row], lag: Sequence[Row] | str, coredata: Mapping[str, int],
                    who: Identity, now: float | None = None) -> Row:
    """The dashboard's JSON twin: every worker's ``/stats.json?local=1`` summed, lag, core-data counts.

    ``workers`` holds each worker's local answer (``stats`` = ``Stats.snapshot()``, ``timeline`` =
    ``Timeline.snapshot()``), or ``error``; ``lag`` is per partition of tracking.raw, or why it is unknown.
    """
    throughput, throughput_svg = figures.throughput(
        [w["timeline"] for w in workers if "timeline" in w], time.time() if now is None else now)
    total: Counter[str] = Counter()
    minute: Counter[str] = Counter()
    for w in workers:
        if "stats" in w:
            total.update(w["stats"]["total"])
            minute.update(w["stats"]["last_minute"])

    def group(counts: Counter[str], prefix: str) -> int:
        return sum(n for k, n in counts.items() if k.startswith(prefix))

    def by_reason(prefix: str) -> list[Row]:
        reasons = sorted(k[len(prefix):] for k in set(total) | set(minute) if k.startswith(prefix))
        return [{"reason": r, "total": total[prefix + r], "last_minute": minute[prefix + r]} for r in reasons]

    def summary(counts: Counter[str]) -> dict[str, int]:
        return {"in": counts["in"], "accepted": counts["accepted"], "rejected": group(counts, "rejected:"),
                "dlq": group(counts, "dlq:"), "duplicates": counts["rejected:duplicate"],
                "rerouted": counts["rerouted"]}

    return {
        "worker": who.url,
        "app_id": who.app_id,
        "totals": summary(total),
        "rates": {k: round(n / WINDOW_S, 3) for k, n in summary(minute).items()},
        "rejected": by_reason("rejected:"),
        "dlq": by_reason("dlq:"),
        "lag": [] if isinstance(lag, str) else list(lag),
        "lag_error": lag if isinstance(lag, str) else None,
        "coredata": {entity: coredata.get(entity, 0) for entity in ENTITY_TABLES},
        "workers": [{"url": w["worker"], "partitions": w.get("partitions", []),
                     "in": w["stats"]["total"].get("in", 0) if "stats" in w else None,
                     "error": w.get("error")} for w in workers],
        "throughput": throughput,
        "charts": {"throughput": throughput_svg},
    }


# ---- tables ----------------------------------------------------------------------------------

def entity_row(id_: str, stored: Row) -> Row:
    return {"id": id_, "version": stored["version"], **(stored["data"] or {})}


def budget_row(id_: str, stored: Row, spent_micros: int | None) -> Row:
    """A budget with its spend; ``spent_micros`` None when the worker holding it did not answer."""
    total = stored["data"]["total"]
    if spent_micros is None:
        return {"id": id_, "version": stored["version"], "total": total, "spent": None, "remaining": None}
    remaining = from_micros(to_micros(total) - spent_micros)  # in micros, as the pipeline charges
    return {"id": id_, "version": stored["version"], "total": total, "spent": from_micros(spent_micros),
            "remaining": remaining}


def subscription_row(name: str, sub: Row, delivered: int | None) -> Row:
    return {"name": name, "topic": sub["topic"], "filter": sub["filter"], "snapshot": sub["snapshot"],
            "at": sub["at"], "delivered": delivered}


def table_model(page: Page[Row], path: str, q: str | None, who: Identity) -> Row:
    next_ = None if page.next is None else page_href(path + ".json", page.next, q)
    return {"rows": [row for _, row in page.rows], "next": next_, "count": page.count, "worker": who.url}


# ---- campaign --------------------------------------------------------------------------------

def campaign_model(id_: str, stored: Row, budget: Row | None, spent_micros: int | None,
                   counts: Mapping[str, int], notifications: Sequence[Row], who: Identity,
                   now_ms: int | None = None) -> Row:
    rejected = sorted((k.split(":", 1)[1], n) for k, n in counts.items() if k.startswith("rejected:"))
    live_budget = budget is not None and not budget["deleted"]
    data = stored["data"] or {}
    pacing, pacing_svg = None, None
    if not stored["deleted"] and isinstance(data.get("start_ts"), int):  # no flight, nothing to pace
        total = to_micros(budget["data"]["total"]) if live_budget else None  # type: ignore[index]
        pacing, pacing_svg = figures.campaign_pacing(total, spent_micros, data["start_ts"], data.get("end_ts"),
                                                     int(time.time() * 1000) if now_ms is None else now_ms)
    return {
        "id": id_,
        "version": stored["version"],
        "deleted": stored["deleted"],
        "updated_at": stored.get("at"),
        "data": stored["data"],
        "budget": budget_row(id_, budget, spent_micros) if live_budget else None,
        "spent": None if spent_micros is None else from_micros(spent_micros),
        "accepted": counts.get("accepted", 0),
        "rejected": sum(n for _, n in rejected),
        "rejected_by_reason": [{"reason": r, "count": n} for r, n in rejected],
        "notifications": list(notifications),
        "worker": who.url,
        "pacing": pacing,
        "charts": {"pacing": pacing_svg} if pacing_svg else {},
    }


def notification_row(value: bytes | None) -> Row:
    """A notification's fields a campaign page shows; ``ValueError`` for a value that is not a JSON object."""
    note = orjson.loads(value)  # orjson.JSONDecodeError is a ValueError, for None too
    if not isinstance(note, dict):
        raise ValueError(f"a JSON {type(note).__name__}, not an object")
    return {k: note.get(k) for k in NOTIFICATION_FIELDS}


# ---- archive ---------------------------------------------------------------------------------

def archive_model(directory: str | None, hours: Sequence[Hour], lag: Sequence[Row] | str, shown: int,
                  who: Identity) -> Row:
    """The archive page's twin. ``hours`` newest first (from the archive's file names,
    ``pipeline.archive.resume``); the ``shown`` newest are listed, all are counted. ``lag`` is per
    partition of tracking.batch from the archive group's committed offsets (``pipeline.archive.progress``),
    or why it is unknown."""
    return {
        "dir": directory,
        "totals": {"hours": len(hours), "files": sum(h.files for h in hours), "rows": sum(h.rows for h in hours),
                   "bytes": sum(h.bytes for h in hours)},
        "hours": [{"dt": h.dt, "hour": h.hour, "files": h.files, "rows": h.rows, "bytes": h.bytes,
                   "partitions": list(h.partitions)} for h in hours[:shown]],
        "lag": [] if isinstance(lag, str) else list(lag),
        "lag_error": lag if isinstance(lag, str) else None,
        "behind": None if isinstance(lag, str) else sum(row["lag"] for row in lag),
        "worker": who.url,
    }
