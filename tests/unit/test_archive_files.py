"""Archive files: hour folders and names, durable rolls, recovery after a crash, and where partitions resume."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from pipeline.archive import resume, writer
from pipeline.archive.naming import FileName, folder, hour_of, is_temp, parse_folder, temp_partition
from pipeline.archive.schema import to_row, to_table
from tests.unit.test_archive_schema import TS, enriched

HOUR = 3_600_000


def test_an_event_goes_to_the_utc_hour_of_its_ts() -> None:
    assert folder(hour_of(TS)) == "dt=2025-12-01/hour=12"
    assert folder(hour_of(TS - 1)) == "dt=2025-12-01/hour=11"
    assert folder(hour_of(TS + 12 * HOUR)) == "dt=2025-12-02/hour=00"
    assert parse_folder("dt=2025-12-02/hour=00") == ("2025-12-02", 0)
    assert parse_folder("dt=2025-12-02/hour=0") is None and parse_folder("_pending") is None


def test_a_name_holds_partition_first_and_last_offset_and_rows_and_reads_back() -> None:
    name = FileName(3, 100, 199, 87)
    assert name.name == "p0003-00000000000000000100-00000000000000000199-87.parquet"
    assert FileName.parse(name.name) == name
    assert name.temp == "." + name.name + ".tmp" and is_temp(name.temp) and temp_partition(name.temp) == 3
    for other in (name.temp, "p3-100-199-87.parquet", name.name + ".crc", "_SUCCESS"):
        assert FileName.parse(other) is None


def rows(offsets: list[int], hours: list[int] | None = None, partition: int = 0) -> list[dict]:
    hours = hours or [0] * len(offsets)
    return [to_row(orjson.dumps(enriched(event_id=f"e-{o}", ts=TS + h * HOUR)), partition, o)
            for o, h in zip(offsets, hours)]


def by_hour(written: list[dict]) -> dict:
    grouped: dict[int, list[dict]] = {}
    for row in written:
        grouped.setdefault(hour_of(row["ts"]), []).append(row)
    return {hour: to_table(rs) for hour, rs in grouped.items()}


def test_a_roll_spanning_two_hours_is_one_file_per_hour_and_no_journal_or_temp_is_left(tmp_path: Path) -> None:
    written = rows([10, 11, 12, 13, 15], hours=[0, -1, 0, -1, 0])
    paths = writer.write_roll(tmp_path, 2, by_hour(written), 10, 16)
    assert sorted(str(p.relative_to(tmp_path)) for p in paths) == [
        "tracking/dt=2025-12-01/hour=11/p0002-00000000000000000011-00000000000000000013-2.parquet",
        "tracking/dt=2025-12-01/hour=12/p0002-00000000000000000010-00000000000000000015-3.parquet",
    ]
    assert sorted(f for f in tmp_path.rglob("*") if f.is_file()) == sorted(paths)
    assert not any((tmp_path / "tracking" / "_pending").iterdir())
    table = pq.read_table(tmp_path / "tracking")
    assert sorted(table.column("source_offset").to_pylist()) == [10, 11, 12, 13, 15]
    assert set(table.column("hour").to_pylist()) == {11, 12}


def test_a_crash_after_the_journal_is_finished_at_the_next_start(tmp_path: Path, monkeypatch) -> None:
    real = os.replace
    calls = []

    def crash_on_second_data_rename(source, target) -> None:
        if str(target).endswith(".parquet"):
            calls.append(target)
            if len(calls) == 2:
                raise SystemExit("killed")
        real(source, target)

    monkeypatch.setattr(writer.os, "replace", crash_on_second_data_rename)
    with pytest.raises(SystemExit):
        writer.write_roll(tmp_path, 1, by_hour(rows([5, 6, 7], hours=[0, 1, 0], partition=1)), 5, 7)
    monkeypatch.setattr(writer.os, "replace", real)
    visible = [f.file for f in resume.files(tmp_path)]
    assert len(visible) == 1  # half of the roll: resuming after its highest offset would skip the rest
    assert writer.recover(tmp_path, [1]) == (1, 0)
    found = [f.file for f in resume.files(tmp_path)]
    assert sorted((f.first, f.last, f.rows) for f in found) == [(5, 7, 2), (6, 6, 1)]
    assert resume.highest(found) == {1: 7}
    assert not [f for f in tmp_path.rglob("*") if f.is_file() and f.suffix != ".parquet"]


def test_a_crash_before_the_journal_leaves_temporary_files_that_are_removed_and_nothing_visible(
        tmp_path: Path, monkeypatch) -> None:
    def crash(*_) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(writer, "journal_name", crash)
    with pytest.raises(SystemExit):
        writer.write_roll(tmp_path, 1, by_hour(rows([5, 6], hours=[0, 1], partition=1)), 5, 6)
    monkeypatch.undo()
    assert list(resume.files(tmp_path)) == []
    assert len([f for f in tmp_path.rglob("*.tmp")]) == 2
    assert writer.recover(tmp_path, [0, 2]) == (0, 0)  # another partition's leftovers are not ours to remove
    assert writer.recover(tmp_path, [1]) == (0, 2)
    assert not list(tmp_path.rglob("*.tmp"))


def test_highest_offset_per_partition_and_where_each_resumes() -> None:
    names = [FileName(0, 0, 99, 100), FileName(0, 100, 180, 70), FileName(1, 0, 9, 10), FileName(0, 101, 150, 3)]
    assert resume.highest(names) == {0: 180, 1: 9}
    assert resume.resume_at(committed=None, highest_in_files=None) is None
    assert resume.resume_at(committed=None, highest_in_files=180) == 181
    assert resume.resume_at(committed=150, highest_in_files=180) == 181  # renamed, then killed before the commit
    assert resume.resume_at(committed=190, highest_in_files=180) == 190  # a tail of garbage, committed
    assert resume.resume_at(committed=190, highest_in_files=None) == 190


def test_hours_sum_files_and_rows_newest_first(tmp_path: Path) -> None:
    writer.write_roll(tmp_path, 0, by_hour(rows([1, 2, 3], hours=[0, 0, 1])), 1, 3)
    writer.write_roll(tmp_path, 1, by_hour(rows([7], hours=[0], partition=1)), 7, 7)
    summary = resume.hours(resume.files(tmp_path))
    assert [(h.dt, h.hour, h.files, h.rows, h.partitions) for h in summary] == [
        ("2025-12-01", 13, 1, 1, (0,)), ("2025-12-01", 12, 2, 3, (0, 1))]
    assert all(h.bytes > 0 for h in summary)
