"""The archive page: its JSON twin's shape and its HTML. Pure, no Faust.

Hours come from the archive's file names (``pipeline.archive.resume``), the lag from the archive
group's committed offsets on tracking.batch (``pipeline.archive.progress``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.archive.resume import Hour
from pipeline.web.render import Identity, Row, card, esc, layout, rows_table, stat


def archive_model(directory: str | None, hours: Sequence[Hour], lag: Sequence[Row] | str, shown: int,
                  who: Identity) -> Row:
    """``hours`` newest first; the ``shown`` newest are listed, all are counted."""
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


def archive(model: Row, who: Identity) -> str:
    if model["dir"] is None:
        body = ('<p class="empty">No archive folder is set for this worker: start it with '
                '<code>ADTRACK_ARCHIVE_DIR</code> set to the <code>--out</code> folder of '
                '<code>python -m pipeline archive</code>.</p>')
        return layout("Archive", body, who, json_href="/archive.json")
    totals = model["totals"]
    cards = "".join(card(key, label, stat("totals." + key, totals[key]))
                    for key, label in (("hours", "Hours"), ("files", "Files"), ("rows", "Rows")))
    cards += card("lag", "Behind tracking.batch", stat("behind", model["behind"]), "records not archived yet")
    lag_note = f'<p class="warn">Lag unknown: {esc(model["lag_error"])}</p>' if model["lag_error"] else ""
    shown = len(model["hours"])
    more = (f'<p class="note">The newest {shown} of {totals["hours"]} hours.</p>'
            if shown < totals["hours"] else "")
    body = f"""<p class="count">Files under <code>{esc(model["dir"])}/tracking/</code></p>
<section class="cards">{cards}</section>
<div class="grid">
<section><h2>Hours, newest first</h2>
{rows_table(model["hours"], ("dt", "hour", "files", "rows", "bytes", "partitions"), live="hours",
            empty="No file archived yet.")}{more}</section>
<section><h2>Lag behind tracking.batch</h2>{lag_note}
{rows_table(model["lag"], ("partition", "end", "committed", "lag"), live="lag", empty="No partitions known yet.")}
<p class="note">End offset minus the archive group's committed offset (committed after each roll).</p></section>
</div>"""
    return layout("Archive", body, who, json_href="/archive.json", live="/archive.json")
