"""Making a roll of files durable, all of it or none of it, and cleaning up after a crash.

One roll is what one partition buffered until ``--max-records`` or ``--max-seconds``: one file per
hour its events fall in. Each file is written under a temporary name and fsynced. A roll of one file
is then renamed into place, and its folder fsynced: the rename is the moment it exists. A roll of
several files is first journaled (``_pending/<partition>-<first>-<last>.json``, itself written the
same way): from then on it is complete, the renames follow, and a crash before they are all done is
finished by ``recover`` at the next start. Without a journal a crash between two renames would leave
part of a roll visible, and resuming after its highest offset would skip the rest.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import BinaryIO
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.archive.naming import (DATASET, PENDING, FileName, folder, journal_name, journal_partition,
                                     temp_partition)

log = logging.getLogger(__name__)

COMPRESSION = "zstd"


def fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def make_dirs(path: Path) -> None:
    """``mkdir -p`` whose new entries survive a crash: each created folder's parent is fsynced."""
    if path.is_dir():
        return
    make_dirs(path.parent)
    try:
        path.mkdir()
    except FileExistsError:
        return
    fsync_dir(path.parent)


def write_durably(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(file)`` on ``path`` and fsync the file (not its folder)."""
    with open(path, "wb") as out:
        write(out)
        out.flush()
        os.fsync(out.fileno())


def write_roll(out: Path, partition: int, tables: Mapping[int, pa.Table], first: int, last: int) -> list[Path]:
    """Make one partition's roll durable: ``tables`` by hour, holding offsets ``first``..``last`` in all.

    Every table must have its rows' ``source_offset`` in order. Returns the paths written.
    """
    dataset = out / DATASET
    moves: list[tuple[Path, Path]] = []
    for hour, table in sorted(tables.items()):
        offsets = table.column("source_offset")
        name = FileName(partition, offsets[0].as_py(), offsets[-1].as_py(), table.num_rows)
        place = dataset / folder(hour)
        make_dirs(place)
        temp = place / name.temp
        write_durably(temp, lambda f, t=table: pq.write_table(t, f, compression=COMPRESSION))
        moves.append((temp, place / name.name))
    folders = {final.parent for _, final in moves}
    for place in folders:
        fsync_dir(place)  # the temporary names are durable: a journal may point at them
    journal = None
    if len(moves) > 1:
        pending = dataset / PENDING
        make_dirs(pending)
        journal = pending / journal_name(partition, first, last)
        listed = [[str(t.relative_to(dataset)), str(f.relative_to(dataset))] for t, f in moves]
        temp = pending / ("." + journal.name + ".tmp")
        write_durably(temp, lambda f: f.write(orjson.dumps({"moves": listed})))
        os.replace(temp, journal)
        fsync_dir(pending)  # the roll is complete from here on
    for temp, final in moves:
        os.replace(temp, final)
    for place in folders:
        fsync_dir(place)
    if journal is not None:
        journal.unlink()  # if this is lost in a crash, replaying the journal again changes nothing
    return [final for _, final in moves]


def recover(out: Path, partitions: Iterable[int]) -> tuple[int, int]:
    """Finish the journaled rolls of ``partitions``, then remove their leftover temporary files.

    Called before those partitions are read again (at start, at an assignment): no one writes them
    meanwhile. Returns (files moved into place, temporary files removed).
    """
    wanted = set(partitions)
    dataset = out / DATASET
    moved = removed = 0
    pending = dataset / PENDING
    if pending.is_dir():
        for journal in sorted(pending.glob("p*.json")):
            if journal_partition(journal.name) not in wanted:
                continue
            folders = set()
            for temp, final in orjson.loads(journal.read_bytes())["moves"]:
                if (dataset / temp).exists():
                    os.replace(dataset / temp, dataset / final)
                    moved += 1
                folders.add((dataset / final).parent)
            for place in folders:
                fsync_dir(place)
            journal.unlink()
            log.info("finished the journaled roll %s after a crash", journal.name)
    if dataset.is_dir():
        for root, _, names in os.walk(dataset):
            for name in names:
                if temp_partition(name) in wanted:
                    (Path(root) / name).unlink()
                    removed += 1
    return moved, removed
