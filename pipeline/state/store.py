"""The local copy of one partition's tracking state: a RocksDB database (rocksdict).

It holds the changelog's rows under the changelog's own keys, an expiry index, and the offset of
the last changelog record applied, all written in one write batch: after a crash the store is a
prefix of the changelog, and restoring reads only what follows that offset. Written only after
the changelog acknowledged the rows, so it never holds what the changelog does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from rocksdict import BlockBasedOptions, Cache, Options, Rdict, WriteBatch, WriteOptions

from pipeline.state.records import ACCEPTED, AcceptedEvent, Spend, SPEND

Change = tuple[bytes, bytes | None]  # (changelog key, value or None for a tombstone)

OFFSET = b"~changelog-offset"
EXPIRY = b"~expiry:"
_DIGITS = 16
#: One block cache for every partition's database of the process (RocksDB's own default is per database).
_CACHE = Cache(64 << 20)


def _options() -> Options:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    options.set_write_buffer_size(4 << 20)
    options.set_max_write_buffer_number(2)
    table = BlockBasedOptions()
    table.set_block_cache(_CACHE)
    # Index and filter blocks inside the bounded cache, not beside it: memory does not grow with the files.
    table.set_cache_index_and_filter_blocks(True)
    # Most lookups are of new event ids, which no file holds: a bloom filter answers those without a read.
    table.set_bloom_filter(10, False)
    options.set_block_based_table_factory(table)
    return options


def expiry_key(expires_at: int, key: bytes) -> bytes:
    return b"%s%0*d:%s" % (EXPIRY, _DIGITS, expires_at, key)


class PartitionStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = Rdict(str(path), _options())
        # No write-ahead log: the changelog is the log. A crash loses the writes since the last
        # memtable flush, all or none of each write batch, offset included: restore reads them again.
        write_options = WriteOptions()
        write_options.disable_wal = True
        self._db.set_write_options(write_options)
        # Where the expiry scan goes on from: the index rows before it are deleted, and a new one always
        # sorts after it (an accepted event expires after now; an older one would be stale).
        self._expiry_cursor = EXPIRY

    def close(self) -> None:
        self._db.close()

    @property
    def offset(self) -> int:
        """The offset of the last changelog record this store holds; -1 for none."""
        value = self._db.get(OFFSET)
        return -1 if value is None else int(value)

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        return self._db.get(list(keys)) if keys else []

    def spend(self) -> dict[str, Spend]:
        """Every campaign's spend row (one per campaign: few, kept in memory by the caller)."""
        rows = {}
        for key, value in self._db.items(from_key=SPEND):
            if not key.startswith(SPEND):
                break
            rows[key[len(SPEND):].decode()] = Spend.decode(value)
        return rows

    def apply(self, changes: Iterable[Change], changelog_offset: int, expiries: Mapping[bytes, int] | None = None) -> None:
        """Write changelog rows (and tombstones) up to ``changelog_offset`` in one write batch.

        ``expiries`` may give the expiry of accepted entries put (else it is read from their values).
        """
        batch = WriteBatch(raw_mode=True)
        removed: list[bytes] = []
        for key, value in changes:
            if value is None:
                batch.delete(key)
                if key.startswith(ACCEPTED):
                    removed.append(key)
            else:
                batch.put(key, value)
                if key.startswith(ACCEPTED):
                    expires_at = expiries.get(key) if expiries else None
                    if expires_at is None:
                        expires_at = AcceptedEvent.decode(value).expires_at
                    batch.put(expiry_key(expires_at, key), b"")
        # A removed entry's index row is found through the value it had.
        for key, old in zip(removed, self.get_many(removed)):
            if old is not None:
                batch.delete(expiry_key(AcceptedEvent.decode(old).expires_at, key))
        batch.put(OFFSET, str(changelog_offset).encode())
        self._db.write(batch)

    def expired(self, now_ms: int, limit: int) -> list[bytes]:
        """Keys of accepted entries that expired at or before ``now_ms``, oldest first, at most ``limit``."""
        bound = b"%s%0*d" % (EXPIRY, _DIGITS, now_ms)
        found = []
        # Not from the start of the index: a queue's deleted head would be walked over again and again.
        for key in self._db.keys(from_key=self._expiry_cursor):
            if not key.startswith(EXPIRY) or key[: len(bound)] > bound or len(found) >= limit:
                break
            found.append(key[len(bound) + 1:])
            self._expiry_cursor = key
        return found
