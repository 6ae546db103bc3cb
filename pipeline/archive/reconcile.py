"""``python -m pipeline reconcile --archive DIR``: archived cost per campaign against the spend the workers hold.

An event is charged once, however often its record is on ``tracking.batch`` (a worker that crashes
before its commit writes the outputs of the uncommitted events again), so the archive's side is the
sum of ``cost_micros`` over distinct ``(campaign_id, event_id)``. Both sides are integer micros and
must be equal to the micro. Run it when the archive has caught up (it says how far behind it is).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from config.settings import Settings
from pipeline.archive import progress
from pipeline.archive.naming import DATASET
from pipeline.archive.spend import held_spend
from pipeline.cli.tables import text_table

COLUMNS = ["campaign_id", "event_id", "type", "cost_micros"]


@dataclasses.dataclass(frozen=True)
class Line:
    campaign_id: str
    archived_micros: int
    held_micros: int

    @property
    def equal(self) -> bool:
        return self.archived_micros == self.held_micros


def read(out: Path) -> pa.Table:
    """The columns reconciliation needs, with the ``dt`` and ``hour`` of each row's folder."""
    dataset = out / DATASET
    if not dataset.is_dir():
        schema = pa.schema([("campaign_id", pa.string()), ("event_id", pa.string()), ("type", pa.string()),
                            ("cost_micros", pa.int64()), ("dt", pa.string()), ("hour", pa.int32())])
        return schema.empty_table()
    return ds.dataset(dataset, format="parquet", partitioning="hive").to_table(columns=[*COLUMNS, "dt", "hour"])


def archived_spend(table: pa.Table) -> dict[str, int]:
    """Micros per campaign over distinct events (a record repeated on tracking.batch is one charge)."""
    events = table.group_by(["campaign_id", "event_id"]).aggregate([("cost_micros", "max")])
    sums = events.group_by("campaign_id").aggregate([("cost_micros_max", "sum")])
    return dict(zip(sums["campaign_id"].to_pylist(), sums["cost_micros_max_sum"].to_pylist()))


def compare(archived: Mapping[str, int], held: Mapping[str, int]) -> list[Line]:
    """One line per campaign on either side; a campaign missing on one side counts 0 there."""
    return [Line(cid, archived.get(cid, 0), held.get(cid, 0)) for cid in sorted(set(archived) | set(held))]


def hourly(table: pa.Table) -> list[dict[str, Any]]:
    """Rows per hour, campaign and type, oldest hour first."""
    counts = table.group_by(["dt", "hour", "campaign_id", "type"]).aggregate([("event_id", "count")])
    rows = [{"dt": r["dt"], "hour": r["hour"], "campaign_id": r["campaign_id"], "type": r["type"],
             "rows": r["event_id_count"]} for r in counts.to_pylist()]
    return sorted(rows, key=lambda r: (r["dt"], r["hour"], r["campaign_id"], r["type"]))


def report(lines: list[Line], hours: list[dict[str, Any]], rows: int, events: int, behind: int) -> str:
    """What the command prints."""
    spend = text_table(("campaign", "archived micros", "held micros", "difference"), [
        (line.campaign_id, line.archived_micros, line.held_micros, line.archived_micros - line.held_micros,
         "" if line.equal else "MISMATCH")
        for line in lines
    ], align="<>>>")
    per_hour = text_table(("hour (UTC)", "campaign", "type", "rows"), [
        (f"{h['dt']} {h['hour']:02d}:00", h["campaign_id"], h["type"], h["rows"]) for h in hours
    ], align="<<<>")
    mismatches = sum(not line.equal for line in lines)
    return "\n".join([
        f"{rows} archived rows, {events} distinct events"
        + (f"; the archive is {behind} records behind tracking.batch (not archived yet)" if behind else ""),
        "", spend, "", f"{len(lines)} campaigns, {mismatches} mismatch{'es' * (mismatches != 1)}", "", per_hour,
    ])


def run(settings: Settings, out: Path) -> int:
    """Print the comparison and the hourly counts; 1 on any mismatch."""
    table = read(out)
    held = asyncio.run(held_spend(settings))
    behind = sum(row["lag"] for row in asyncio.run(progress.lag(settings)))
    lines = compare(archived_spend(table), held)
    events = table.group_by(["campaign_id", "event_id"]).aggregate([]).num_rows
    print(report(lines, hourly(table), table.num_rows, events, behind))
    return 0 if all(line.equal for line in lines) else 1
