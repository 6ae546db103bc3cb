"""What the archive's files hold, from their names alone: where each partition resumes, hours and rows.

The files are the source of truth: a crash may fall between a roll's last rename and the offset
commit, so a partition resumes after the highest offset already in a file when that is past the
group's committed offset.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline.archive.naming import DATASET, FileName, parse_folder


@dataclasses.dataclass(frozen=True)
class Found:
    dt: str
    hour: int
    file: FileName
    path: Path
    bytes: int


def files(out: Path) -> Iterator[Found]:
    """Every data file under ``out/tracking`` (temporary files and journals are not data files)."""
    dataset = out / DATASET
    if not dataset.is_dir():
        return
    for day in sorted(os.scandir(dataset), key=lambda e: e.name):
        if not day.is_dir() or not day.name.startswith("dt="):
            continue
        for hour in sorted(os.scandir(day.path), key=lambda e: e.name):
            place = parse_folder(f"{day.name}/{hour.name}")
            if place is None or not hour.is_dir():
                continue
            for entry in sorted(os.scandir(hour.path), key=lambda e: e.name):
                name = FileName.parse(entry.name)
                if name is not None:
                    yield Found(place[0], place[1], name, Path(entry.path), entry.stat().st_size)


def highest(names: Iterable[FileName]) -> dict[int, int]:
    """Per partition, the highest offset in any file."""
    result: dict[int, int] = {}
    for name in names:
        result[name.partition] = max(result.get(name.partition, -1), name.last)
    return result


def resume_at(committed: int | None, highest_in_files: int | None) -> int | None:
    """Where a partition resumes: after its highest archived offset, or at the committed one if that is
    further (a tail of garbage, dead-lettered and committed, is in no file); None: the group's reset."""
    after_files = None if highest_in_files is None else highest_in_files + 1
    candidates = [o for o in (committed, after_files) if o is not None]
    return max(candidates) if candidates else None


@dataclasses.dataclass(frozen=True)
class Hour:
    dt: str
    hour: int
    files: int
    rows: int
    bytes: int
    partitions: tuple[int, ...]


def hours(found: Iterable[Found]) -> list[Hour]:
    """Files and rows per hour folder, newest hour first."""
    grouped: dict[tuple[str, int], list[Found]] = {}
    for f in found:
        grouped.setdefault((f.dt, f.hour), []).append(f)
    return [Hour(dt, hour, len(fs), sum(f.file.rows for f in fs), sum(f.bytes for f in fs),
                 tuple(sorted({f.file.partition for f in fs})))
            for (dt, hour), fs in sorted(grouped.items(), reverse=True)]
