"""An enriched record from ``tracking.batch`` as one typed archive row, or garbage with its reason. Pure.

The enrichment blocks become flat columns, money integer micros (``price_micros`` too), times
timestamps (UTC, ms). Fields of the raw event the schema does not name are kept as one JSON object
in ``extra``, so nothing an event carried is lost. Records written before ``cost_micros`` existed
are read from ``cost`` and ``budget_remaining``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import orjson
import pyarrow as pa

from pipeline.domain.codec import decode_object
from pipeline.domain.errors import PoisonError, SchemaError
from pipeline.domain.events import OPTIONAL_STRINGS, check_schema
from pipeline.domain.pricing import to_micros

Row = dict[str, Any]
TIME = pa.timestamp("ms", tz="UTC")
#: 9999-12-31T23:59:59.999Z: the last instant a dt= folder can name.
MAX_TS = 253_402_300_799_999

SCHEMA = pa.schema([
    pa.field("event_id", pa.string(), nullable=False),
    pa.field("type", pa.string(), nullable=False),
    pa.field("ts", TIME, nullable=False),
    pa.field("campaign_id", pa.string(), nullable=False),
    pa.field("publisher_id", pa.string(), nullable=False),
    pa.field("slot_id", pa.string(), nullable=False),
    *(pa.field(name, pa.string()) for name in OPTIONAL_STRINGS),
    pa.field("campaign_name", pa.string()),
    pa.field("advertiser_id", pa.string()),
    pa.field("advertiser_name", pa.string()),
    pa.field("pricing_model", pa.string()),
    pa.field("price_micros", pa.int64()),
    pa.field("publisher_name", pa.string()),
    pa.field("publisher_domain", pa.string()),
    pa.field("slot_format", pa.string()),
    pa.field("slot_width", pa.int32()),
    pa.field("slot_height", pa.int32()),
    pa.field("cost_micros", pa.int64(), nullable=False),
    pa.field("budget_remaining_micros", pa.int64()),
    pa.field("received_at", TIME),
    pa.field("processed_at", TIME, nullable=False),
    pa.field("trace_id", pa.string()),
    pa.field("extra", pa.string()),
    pa.field("source_partition", pa.int32(), nullable=False),
    pa.field("source_offset", pa.int64(), nullable=False),
])
COLUMNS = tuple(SCHEMA.names)

#: Top-level fields of an enriched record that have columns (or are read into them).
_KNOWN = frozenset({"event_id", "type", "ts", "campaign_id", "publisher_id", "slot_id", *OPTIONAL_STRINGS,
                    "campaign", "publisher", "slot", "cost", "cost_micros", "budget_remaining",
                    "budget_remaining_micros", "received_at", "processed_at", "trace_id"})


class Garbage(NamedTuple):
    """A record on ``tracking.batch`` that is not an enriched record: dead-lettered with this reason."""

    reason: str
    error: str


def _block(record: Row, name: str) -> Row:
    block = record.get(name)
    if type(block) is not dict:
        raise SchemaError(f"{name} must be an object")
    return block


def _string(block: Row, name: str, where: str) -> str:
    value = block.get(name)
    if type(value) is not str:
        raise SchemaError(f"{where}{name} must be a string")
    return value


def _integer(value: Any, name: str, optional: bool = False, low: int = -(1 << 63), high: int = (1 << 63) - 1) -> Any:
    if value is None and optional:
        return None
    if type(value) is not int or not low <= value <= high:
        raise SchemaError(f"{name} must be an integer{' or null' if optional else ''} in [{low}, {high}]")
    return value


def _number(value: Any, name: str) -> float | int:
    if type(value) not in (int, float):
        raise SchemaError(f"{name} must be a number")
    return value


def _amount(value: Any, name: str) -> int:
    """A float amount in micros, which must fit the int64 column."""
    micros = to_micros(_number(value, name))
    return _integer(micros, f"{name} in micros")


def _micros(record: Row, name: str, optional: bool) -> int | None:
    """``<name>_micros``, or the older float ``<name>`` in micros."""
    if f"{name}_micros" in record:
        return _integer(record[f"{name}_micros"], f"{name}_micros", optional)
    value = record.get(name)
    if value is None and optional:
        return None
    return _amount(value, name)


def to_row(value: bytes | None, partition: int, offset: int) -> Row | Garbage:
    """The archive row of one ``tracking.batch`` record, or why it is garbage."""
    try:
        record = decode_object(value)
        check_schema(record)
        ts = _integer(record["ts"], "ts", low=0, high=MAX_TS)
        campaign, publisher, slot = _block(record, "campaign"), _block(record, "publisher"), _block(record, "slot")
        extra = {k: v for k, v in record.items() if k not in _KNOWN}
        return {
            "event_id": record["event_id"], "type": record["type"], "ts": ts,
            "campaign_id": record["campaign_id"], "publisher_id": record["publisher_id"],
            "slot_id": record["slot_id"],
            **{name: record.get(name) for name in OPTIONAL_STRINGS},
            "campaign_name": _string(campaign, "name", "campaign."),
            "advertiser_id": _string(campaign, "advertiser_id", "campaign."),
            "advertiser_name": _string(campaign, "advertiser_name", "campaign."),
            "pricing_model": _string(campaign, "pricing_model", "campaign."),
            "price_micros": _amount(campaign.get("price"), "campaign.price"),
            "publisher_name": _string(publisher, "name", "publisher."),
            "publisher_domain": _string(publisher, "domain", "publisher."),
            "slot_format": _string(slot, "format", "slot."),
            "slot_width": _integer(slot.get("width"), "slot.width", low=0, high=(1 << 31) - 1),
            "slot_height": _integer(slot.get("height"), "slot.height", low=0, high=(1 << 31) - 1),
            "cost_micros": _micros(record, "cost", optional=False),
            "budget_remaining_micros": _micros(record, "budget_remaining", optional=True),
            "received_at": _integer(record.get("received_at"), "received_at", True, 0, MAX_TS),
            "processed_at": _integer(record.get("processed_at"), "processed_at", low=0, high=MAX_TS),
            "trace_id": _string(record, "trace_id", ""),
            "extra": orjson.dumps(extra, option=orjson.OPT_SORT_KEYS).decode() if extra else None,
            "source_partition": partition,
            "source_offset": offset,
        }
    except PoisonError as exc:
        return Garbage(exc.reason, str(exc))


def to_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows (from ``to_row``) as one Arrow table of ``SCHEMA``."""
    return pa.Table.from_pydict({name: [row[name] for row in rows] for name in COLUMNS}, schema=SCHEMA)
