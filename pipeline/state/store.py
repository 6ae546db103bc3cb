"""The local copy of one partition's tracking state: a RocksDB database (rocksdict).

It holds the changelog's spend rows under their own keys; each accepted batch expanded into one
``accepted:<event_id>`` row per event, the batch itself (under ``~`` + its changelog key) and an
expiry index row for it; and the offset of the last changelog record applied, all written in one
write batch: after a crash the store is a prefix of the changelog, and restoring reads only what
follows that offset. Written only after the changelog acknowledged the rows, so it never holds what
the changelog does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from rocksdict import BlockBasedOptions, Cache, Options, Rdict, WriteBatch, WriteOptions

from pipeline.state.records import ACCEPTED_BATCH, AcceptedBatch, Spend, SPEND, accepted_key

Change = tuple[bytes, bytes | None]  # (changelog key, value or None for a tombstone)

OFFSET = b"~changelog-offset"
EXPIRY = b"~expiry:"
BATCH = b"~"  # before a changelog key: an accepted batch as the changelog holds it
_DIGITS = 16
#: One block cache for every partition's database of the process (RocksDB's own default is per database).
_CACHE = Cache(64 << 20)


def _options() -> Options:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    options.set_write_buffer_size(4 << 20)
    options.set_max_write_buffer_number(2)
    # Every batch looks up its event ids, nearly all new: a miss searches both memtables' skip lists
    # first. A bloom filter of whole keys per memtable (a tenth of its size) answers most misses at
    # once: 1.0 instead of 2.1 us a key in a 2000-key multi-get.
    options.set_memtable_prefix_bloom_ratio(0.1)
    options.set_memtable_whole_key_filtering(True)
    table = BlockBasedOptions()
    table.set_block_cache(_CACHE)
    # Index and filter blocks inside the bounded cache, not beside it: memory does not grow with the files.
    table.set_cache_index_and_filter_blocks(True)
    # Most lookups are of new event ids, which no file holds: a bloom filter answers those without a read.
    table.set_bloom_filter(10, False)
    options.set_block_based_table_factory(table)
    return options


def cache_bytes() -> int:
    """What the block cache shared by every partition's store holds (at most its 64 MiB)."""
    return _CACHE.get_usage()


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
        # sorts after it (a batch expires after the events it accepted were new; an older one is stale).
        self._expiry_cursor = EXPIRY

    def close(self) -> None:
        self._db.close()

    @property
    def offset(self) -> int:
        """The offset of the last changelog record this store holds; -1 for none."""
        value = self._db.get(OFFSET)
        return -1 if value is None else int(value)

    def memtable_bytes(self) -> int:
        """What this store's memtables hold (at most two of 4 MiB, then they are flushed to files)."""
        return self._db.property_int_value("rocksdb.cur-size-all-mem-tables") or 0

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

    def apply(self, changes: Iterable[Change], changelog_offset: int, decoded: AcceptedBatch | None = None) -> int:
        """Write changelog records (and tombstones), in order, up to ``changelog_offset`` in one write batch.

        ``decoded`` may be the accepted batch of one of the records, as decoding its value would give.
        Returns the rows written: an accepted batch's entries count one each.
        """
        folded: dict[bytes, bytes | None] = {}
        for key, value in changes:  # the last value of each key: a batch and its tombstone cancel out
            folded.pop(key, None)
            folded[key] = value
        batch = WriteBatch(raw_mode=True)
        written: list[bytes] = []  # entries this write puts: newer than any a removed batch has
        removed: list[bytes] = []
        rows = len(folded)
        for key, value in folded.items():
            if not key.startswith(ACCEPTED_BATCH):
                if value is None:
                    batch.delete(key)
                else:
                    batch.put(key, value)
            elif value is None:
                removed.append(key)
            else:
                accepted = decoded if decoded is not None and decoded.key == key else AcceptedBatch.decode(value)
                rows += len(accepted.entries) - 1
                for event_id, entry in accepted.items():
                    entry_key = accepted_key(event_id)
                    batch.put(entry_key, entry.encode())
                    written.append(entry_key)
                batch.put(BATCH + key, value)
                batch.put(expiry_key(accepted.expires_at, key), b"")
        if removed:  # only a write that removes batches looks up what it puts
            kept = set(written)
            for key, value in zip(removed, self.get_many([BATCH + key for key in removed])):
                if value is not None:
                    self._remove(batch, key, AcceptedBatch.decode(value), kept)
        batch.put(OFFSET, str(changelog_offset).encode())
        self._db.write(batch)
        return rows

    def _remove(self, batch: WriteBatch, key: bytes, accepted: AcceptedBatch, written: set[bytes]) -> None:
        """Delete an accepted batch, and each of its entries unless an event of the same id was accepted since."""
        batch.delete(BATCH + key)
        batch.delete(expiry_key(accepted.expires_at, key))
        keys = [accepted_key(event_id) for event_id in accepted.event_ids]
        for entry_key, entry, stored in zip(keys, accepted.entries, self.get_many(keys)):
            if entry_key not in written and stored == entry.encode():
                batch.delete(entry_key)

    def expired(self, now_ms: int, limit: int) -> list[bytes]:
        """Changelog keys of accepted batches whose every entry expired at or before ``now_ms``, oldest first."""
        bound = b"%s%0*d" % (EXPIRY, _DIGITS, now_ms)
        found = []
        # Not from the start of the index: a queue's deleted head would be walked over again and again.
        for key in self._db.keys(from_key=self._expiry_cursor):
            if not key.startswith(EXPIRY) or key[: len(bound)] > bound or len(found) >= limit:
                break
            found.append(key[len(bound) + 1:])
            self._expiry_cursor = key
        return found
