"""Where a file goes and what its name says. Pure.

    <out>/tracking/dt=YYYY-MM-DD/hour=HH/p<partition>-<first offset>-<last offset>-<rows>.parquet

The folder is the hour of the events' ``ts`` (UTC), Hive-style, so readers see ``dt`` and ``hour``
as columns. The name holds the source partition of ``tracking.batch`` and the first and last offset
of the rows in the file: offsets are never in two files, so names never clash, even when one roll of
a partition is split into one file per hour. A file is written under a temporary name (a dot in
front, ``.tmp`` behind: readers skip it) and renamed into place once durable.
"""

from __future__ import annotations

import dataclasses
import re
import time

HOUR_MS = 3_600_000
DATASET = "tracking"
#: Rolls of several files are journaled here until every file is in place (readers skip ``_`` folders).
PENDING = "_pending"
TEMP_PREFIX, TEMP_SUFFIX = ".", ".tmp"
_NAME = re.compile(r"p(\d{4})-(\d{20})-(\d{20})-(\d+)\.parquet")
_FOLDER = re.compile(r"dt=(\d{4}-\d{2}-\d{2})/hour=(\d{2})")


def hour_of(ts_ms: int) -> int:
    """Hours since the epoch: the key a row is grouped by."""
    return ts_ms // HOUR_MS


def folder(hour: int) -> str:
    """``dt=YYYY-MM-DD/hour=HH`` of an hour since the epoch (UTC)."""
    moment = time.gmtime(hour * 3600)
    return f"dt={time.strftime('%Y-%m-%d', moment)}/hour={moment.tm_hour:02d}"


def parse_folder(relative: str) -> tuple[str, int] | None:
    """``(dt, hour)`` of a folder path relative to the dataset, or None for anything else."""
    matched = _FOLDER.fullmatch(relative)
    return None if matched is None else (matched[1], int(matched[2]))


@dataclasses.dataclass(frozen=True, order=True)
class FileName:
    partition: int
    first: int
    last: int
    rows: int

    @property
    def name(self) -> str:
        return f"p{self.partition:04d}-{self.first:020d}-{self.last:020d}-{self.rows}.parquet"

    @property
    def temp(self) -> str:
        return TEMP_PREFIX + self.name + TEMP_SUFFIX

    @classmethod
    def parse(cls, name: str) -> FileName | None:
        """The parts of a data file's name; None for any other name (temporary files included)."""
        matched = _NAME.fullmatch(name)
        if matched is None:
            return None
        return cls(*(int(part) for part in matched.groups()))


def is_temp(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def temp_partition(name: str) -> int | None:
    """The partition of a temporary data file or journal (``.p0003-...tmp``), None for other names."""
    if not is_temp(name):
        return None
    return journal_partition(name[len(TEMP_PREFIX):-len(TEMP_SUFFIX)])


def journal_name(partition: int, first: int, last: int) -> str:
    return f"p{partition:04d}-{first:020d}-{last:020d}.json"


def journal_partition(name: str) -> int | None:
    """The partition a data file or journal name starts with (``p0003-``), None for other names."""
    matched = re.match(r"p(\d{4})-\d{20}-", name)
    return None if matched is None else int(matched[1])
