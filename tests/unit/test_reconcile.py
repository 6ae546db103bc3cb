"""Reconciliation, the pure part: archived cost over distinct events against the spend held, and hourly counts."""

from __future__ import annotations

import pyarrow as pa

from pipeline.archive.reconcile import Line, archived_spend, compare, hourly, report


def archive(*rows: tuple[str, str, str, int, str, int]) -> pa.Table:
    names = ["campaign_id", "event_id", "type", "cost_micros", "dt", "hour"]
    return pa.Table.from_pylist([dict(zip(names, row)) for row in rows])


TABLE = archive(
    ("cmp-a", "e1", "impression", 2500, "2026-12-01", 9),
    ("cmp-a", "e1", "impression", 2500, "2026-12-01", 9),  # the same event written again by a replay
    ("cmp-a", "e2", "click", 0, "2026-12-01", 10),
    ("cmp-b", "e1", "conversion", 7_000_000, "2026-12-01", 10),  # event ids are per campaign
)


def test_a_replayed_record_is_charged_once() -> None:
    assert archived_spend(TABLE) == {"cmp-a": 2500, "cmp-b": 7_000_000}


def test_campaigns_on_either_side_are_compared_to_the_micro() -> None:
    lines = compare({"cmp-a": 2500, "cmp-b": 7_000_000}, {"cmp-a": 2500, "cmp-b": 7_000_001, "cmp-c": 5})
    assert lines == [Line("cmp-a", 2500, 2500), Line("cmp-b", 7_000_000, 7_000_001), Line("cmp-c", 0, 5)]
    assert [line.equal for line in lines] == [True, False, False]


def test_counts_per_hour_campaign_and_type_oldest_first() -> None:
    assert hourly(TABLE) == [
        {"dt": "2026-12-01", "hour": 9, "campaign_id": "cmp-a", "type": "impression", "rows": 2},
        {"dt": "2026-12-01", "hour": 10, "campaign_id": "cmp-a", "type": "click", "rows": 1},
        {"dt": "2026-12-01", "hour": 10, "campaign_id": "cmp-b", "type": "conversion", "rows": 1},
    ]


def test_the_report_names_each_mismatch_and_how_far_behind_the_archive_is() -> None:
    text = report([Line("cmp-a", 2500, 2500), Line("cmp-b", 1, 2)], hourly(TABLE), rows=4, events=3, behind=12)
    assert text.splitlines()[0] == "4 archived rows, 3 distinct events; the archive is 12 records behind " \
                                   "tracking.batch (not archived yet)"
    assert [line for line in text.splitlines() if "MISMATCH" in line] == [
        "cmp-b                   1            2          -1  MISMATCH"]
    assert "2 campaigns, 1 mismatch" in text
    assert "2026-12-01 09:00  cmp-a     impression     2" in text
