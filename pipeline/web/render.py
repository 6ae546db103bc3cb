"""What the web pages show: their JSON twins' shapes and their HTML. Pure, no Faust.

Every value that reaches HTML goes through ``esc``, links too (after percent-encoding). Live values carry
``data-stat="path"`` (a dotted path into the page's JSON twin) and live tables ``data-rows``;
``static/live.js`` refreshes them in place with the same formats as ``fmt``.
"""

from __future__ import annotations

import dataclasses
import html
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import orjson

from pipeline.pricing import from_micros, to_micros
from pipeline.stats import WINDOW_S
from pipeline.web import figures
from pipeline.web.paging import Page, page_href

Row = dict[str, Any]
NONE = "—"
NAV = (("/", "Dashboard"), ("/tables/campaigns", "Campaigns"), ("/tables/publishers", "Publishers"),
       ("/tables/slots", "Slots"), ("/tables/budgets", "Budgets"), ("/tables/subscriptions", "Subscriptions"),
       ("/archive", "Archive"))


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def path_for(path: str, *segments: str) -> str:
    """``path`` followed by each segment, percent-encoded whole (so ``/`` in an id stays in its segment)."""
    return path + "".join("/" + quote(s, safe="") for s in segments)


@dataclasses.dataclass(frozen=True)
class Identity:
    """Which worker answers: its canonical URL, app id, tracking.raw partitions, and who forwarded to it."""

    url: str
    app_id: str
    partitions: Sequence[int] = ()
    via: str | None = None


# ---- formats (static/live.js formats the same way) -------------------------------------------

def fmt(value: Any, kind: str = "") -> str:
    if value is None:
        return NONE
    if kind == "rate":
        return f"{value:,.2f}/s"
    if kind == "money":
        text = f"{value:,.6f}".rstrip("0")
        return text + "0" * (2 - len(text.rsplit(".", 1)[1]))
    if kind == "time":
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value / 1000))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list) and not any(isinstance(v, (list, dict)) for v in value):
        return ", ".join(fmt(v) for v in value) or NONE
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return str(value)


def card(key: str, label: str, value: str, note: str = "") -> str:
    """A headline number: ``value`` and ``note`` are HTML (a ``stat``, or escaped text)."""
    note = f'<div class="rate">{note}</div>' if note else ""
    return (f'<div class="card" id="card-{esc(key)}"><div class="label">{esc(label)}</div>'
            f'<div class="big">{value}</div>{note}</div>')


def stat(path: str, value: Any, kind: str = "") -> str:
    """A live value: rendered now, refreshed from the JSON twin's ``path``."""
    return f'<span data-stat="{esc(path)}" data-format="{esc(kind)}">{esc(fmt(value, kind))}</span>'


def is_time(name: str) -> bool:
    """Epoch-millisecond fields: ``at``, ``*_at``, ``*_ts``."""
    return name == "at" or name.endswith(("_at", "_ts"))


def is_numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def cell(name: str, value: Any, kind: str = "") -> str:
    """A table cell, numbers to the right, timestamps readable with the raw value on hover."""
    if value is None:
        return f'<td class="none">{NONE}</td>'
    if is_time(name) and isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="time" title="{esc(value)}">{esc(fmt(value, "time"))}</td>'
    return f'<td class="num">{esc(fmt(value, kind))}</td>' if is_numeric(value) else f"<td>{esc(fmt(value))}</td>"


def rows_table(rows: Sequence[Row], columns: Sequence[str], *, live: str = "", empty: str = "",
               links: Mapping[str, str] | None = None, kinds: Mapping[str, str] | None = None) -> str:
    """A table of ``rows``. ``links``: column -> the path its values link to; ``kinds``: column -> format;
    ``live``: the path of the list in the JSON twin that refreshes the rows (live tables use default formats)."""
    links, kinds = links or {}, kinds or {}
    numeric = {c for c in columns if not is_time(c) and any(is_numeric(row.get(c)) for row in rows)}
    head = "".join(f'<th{" class=num" if c in numeric else ""}>{esc(c.replace("_", " "))}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            if c in links and row.get(c) is not None:
                cells.append(f'<td class="key"><a href="{esc(path_for(links[c], str(row[c])))}">{esc(row[c])}</a></td>')
            else:
                cells.append(cell(c, row.get(c), kinds.get(c, "")))
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not rows:
        body.append(f'<tr class="empty"><td colspan="{len(columns)}">{esc(empty)}</td></tr>')
    live_attrs = (f' data-rows="{esc(live)}" data-cols="{esc(",".join(columns))}" data-empty="{esc(empty)}"'
                  if live else "")
    table = f'<table><thead><tr>{head}</tr></thead><tbody{live_attrs}>{"".join(body)}</tbody></table>'
    return f'<div class="scroll">{table}</div>'


def columns(rows: Iterable[Row]) -> list[str]:
    """Column names in order of first appearance."""
    return list(dict.fromkeys(name for row in rows for name in row))


def layout(title: str, body: str, who: Identity, *, json_href: str, live: str | None = None) -> str:
    nav = "".join(f'<a href="{esc(path)}">{esc(label)}</a>' for path, label in NAV)
    live_attrs = f' data-live="{esc(live)}"' if live else ""
    via = f" · forwarded by <code>{esc(who.via)}</code>" if who.via else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · adtrack</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/app.css"></head>
<body{live_attrs}>
<header><a class="brand" href="/">adtrack</a><nav>{nav}</nav>
<span class="worker" id="worker">answered by <code>{esc(who.url)}</code></span></header>
<main><h1>{esc(title)}</h1>
{body}
</main>
<footer>Answered by worker <code>{esc(who.url)}</code> · app <code>{esc(who.app_id)}</code>
· tracking.raw partitions {esc(fmt(list(who.partitions)))}{via}
· <a href="{esc(json_href)}">JSON</a>{' · <span id="live-status">live</span>' if live else ""}</footer>
{'<script src="/static/live.js"></script>' if live else ""}
</body></html>"""


def chart(path: str, svg: str) -> str:
    """A chart drawn by ``charts.draw`` (its own escaping), swapped in place from the JSON twin's ``path``."""
    return f'<figure class="chart" data-chart="{esc(path)}">{svg}</figure>'


def not_found(message: str, who: Identity) -> str:
    body = f'<p class="empty">{esc(message)}</p><p><a href="/">Back to the dashboard</a></p>'
    return layout("Not found", body, who, json_href="/stats.json")


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


CARDS = (("in", "Events in"), ("accepted", "Accepted"), ("rejected", "Rejected"), ("dlq", "Dead-lettered"),
         ("duplicates", "Duplicates"))
ENTITY_TABLES = {"campaign": "campaigns", "publisher": "publishers", "slot": "slots", "budget": "budgets"}


def dashboard(model: Row, who: Identity) -> str:
    cards = "".join(
        card(key, label, stat("totals." + key, model["totals"][key]),
             stat("rates." + key, model["rates"][key], "rate") + " over the last minute")
        for key, label in CARDS
    )
    coredata = "".join(
        f'<tr><td><a href="/tables/{esc(name)}">{esc(name)}</a></td>'
        f'<td class="num">{stat("coredata." + entity, model["coredata"][entity])}</td></tr>'
        for entity, name in ENTITY_TABLES.items()
    )
    lag_note = f'<p class="warn">Lag unknown: {esc(model["lag_error"])}</p>' if model["lag_error"] else ""
    body = f"""<section class="cards">{cards}</section>
<section><h2>Events per second, last hour</h2>{chart("charts.throughput", model["charts"]["throughput"])}</section>
<div class="grid">
<section><h2>Rejected, by reason</h2>
{rows_table(model["rejected"], ("reason", "total", "last_minute"), live="rejected", empty="No rejections yet.")}
</section>
<section><h2>Dead-lettered, by reason</h2>
{rows_table(model["dlq"], ("reason", "total", "last_minute"), live="dlq", empty="Nothing dead-lettered yet.")}</section>
<section><h2>Consumer lag on tracking.raw</h2>{lag_note}
{rows_table(model["lag"], ("partition", "end", "committed", "lag"), live="lag", empty="No partitions known yet.")}
<p class="note">End offset minus the group's committed offset (commits every few seconds).</p></section>
<section><h2>Core data</h2><table><thead><tr><th>table</th><th class=num>live rows</th></tr></thead>
<tbody>{coredata}</tbody></table></section>
</div>
<section><h2>Workers</h2>
{rows_table(model["workers"], ("url", "partitions", "in", "error"), live="workers", empty="No worker answered.")}
<p class="note">Counts are the sum over these workers, since each started; rates are over the last full minute.</p>
</section>"""
    return layout("Dashboard", body, who, json_href="/stats.json", live="/stats.json")


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


def table(name: str, page: Page[Row], *, q: str | None, after: str | None, who: Identity,
          link: str | None = None, kinds: Mapping[str, str] | None = None, note: str = "") -> str:
    path = f"/tables/{name}"
    rows = [row for _, row in page.rows]
    if page.count == 0:
        empty = f"No {name} match “{q}”." if q else f"No {name} yet."
    else:
        empty = f"No {name} after “{after}”."
    matching = f" match “{esc(q)}”" if q else ""
    count = f'<p class="count"><strong>{esc(fmt(page.count))}</strong> {esc(name)}{matching}'
    if after:
        count += f' · after “{esc(after)}” · <a href="{esc(page_href(path, None, q))}">first page</a>'
    count += "</p>"
    search = (f'<form class="search" method="get" action="{esc(path)}">'
              f'<input type="search" name="q" value="{esc(q or "")}" placeholder="Search keys"'
              f' aria-label="Search keys">'
              f"<button>Search</button></form>")
    key = next(iter(rows[0])) if rows else "id"
    grid = rows_table(rows, columns(rows) or [key], empty=empty, links={key: link} if link else None, kinds=kinds)
    more = (f'<p class="pager"><a rel="next" href="{esc(page_href(path, page.next, q))}">Next page →</a></p>'
            if page.next else "")
    notes = f'<p class="note">{esc(note)}</p>' if note else ""
    return layout(name.capitalize(), search + count + grid + more + notes, who,
                  json_href=page_href(path + ".json", after, q))


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


def campaign(model: Row, who: Identity) -> str:
    id_ = model["id"]
    data = model["data"] or {}
    status = "deleted" if model["deleted"] else data.get("status", "")
    facts = "".join(f"<tr><th>{esc(k.replace('_', ' '))}</th>{cell(k, v)}</tr>"
                    for k, v in {"id": id_, "version": model["version"], "updated_at": model["updated_at"],
                                 **data}.items())
    b = model["budget"]
    if b:
        money = (card("total", "Budget total", esc(fmt(b["total"], "money")))
                 + card("spent", "Spent", stat("budget.spent", b["spent"], "money"))
                 + card("remaining", "Remaining", stat("budget.remaining", b["remaining"], "money")))
    else:
        money = card("spent", "Spent (no budget: no limit)", stat("spent", model["spent"], "money"))
    cards = (money + card("accepted", "Accepted", stat("accepted", model["accepted"]))
             + card("rejected", "Rejected", stat("rejected", model["rejected"])))
    pacing = ""
    if model["pacing"]:
        cards += card("pacing", "Pacing", stat("pacing.verdict", model["pacing"]["verdict"]),
                      stat("pacing.summary", model["pacing"]["summary"]))
        pacing = f'<section><h2>Spend against budget and flight</h2>{chart("charts.pacing", model["charts"]["pacing"])}'\
                  "</section>"
    notes = rows_table(model["notifications"], ("at", "entity", "op", "version", "changed_fields"),
                       empty="No change notifications found among the recent ones.")
    body = f"""<p class="status status-{esc(status)}">{esc(status)}</p>
<section class="cards">{cards}</section>
{pacing}
<div class="grid campaign">
<section><h2>Core data</h2><table class="facts">{facts}</table></section>
<section><h2>Rejected, by reason</h2>
{rows_table(model["rejected_by_reason"], ("reason", "count"), live="rejected_by_reason", empty="No rejections.")}
<h2>Recent change notifications</h2>{notes}
<p class="note">campaign:{esc(id_)} and budget:{esc(id_)} among the latest notifications on coredata.changes.</p>
</section>
</div>"""
    json_href = path_for("/campaigns", id_ + ".json")
    return layout(f"Campaign {data.get('name', id_)}", body, who, json_href=json_href, live=json_href)
