"""An enriched record as one typed archive row; anything else is garbage with its reason."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from pipeline.archive.schema import COLUMNS, SCHEMA, Garbage, to_row, to_table
from pipeline.domain.enrich import enrich
from pipeline.domain.rules import Accepted
from tests import factories

TS = 1_764_590_400_000  # 2025-12-01T12:00:00Z


def enriched(**overrides) -> dict:
    event = factories.event("cmp-1", "pub-1", "slot-1", ts=TS, event_id="e-1")
    accepted = Accepted(
        campaign={"name": "Spring Sale", "advertiser_id": "adv-1", "advertiser_name": "Acme", "pricing_model": "cpm",
                  "price": 2.5},
        publisher={"name": "Daily Ledger", "domain": "dailyledger.example"},
        slot={"format": "video", "width": 640, "height": 360}, cost_micros=2_500)
    record = enrich(event, accepted, 97_500, TS + 5, "4bf92f3577b34da6a3ce929d0e0e4736", received_at=TS + 1)
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not ...}


def test_an_enriched_record_becomes_a_flat_row_with_micros_and_its_source() -> None:
    row = to_row(orjson.dumps(enriched()), 3, 17)
    assert row == {
        "event_id": "e-1", "type": "impression", "ts": TS, "campaign_id": "cmp-1", "publisher_id": "pub-1",
        "slot_id": "slot-1", "user_agent": factories.BROWSER_UA, "ip": "203.0.113.7",
        "url": "https://dailyledger.example/story", "user_id": None,
        "campaign_name": "Spring Sale", "advertiser_id": "adv-1", "advertiser_name": "Acme", "pricing_model": "cpm",
        "price_micros": 2_500_000, "publisher_name": "Daily Ledger", "publisher_domain": "dailyledger.example",
        "slot_format": "video", "slot_width": 640, "slot_height": 360, "cost_micros": 2_500,
        "budget_remaining_micros": 97_500, "received_at": TS + 1, "processed_at": TS + 5,
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "extra": None, "source_partition": 3, "source_offset": 17,
    }
    assert list(row) == list(COLUMNS)


def test_fields_without_a_column_are_kept_as_one_json_object() -> None:
    row = to_row(orjson.dumps(enriched(zeta=1, alpha={"b": [2]})), 0, 0)
    assert row["extra"] == '{"alpha":{"b":[2]},"zeta":1}'


def test_records_from_before_the_micros_fields_are_read_from_the_float_amounts() -> None:
    row = to_row(orjson.dumps(enriched(cost_micros=..., budget_remaining_micros=...)), 0, 0)
    assert (row["cost_micros"], row["budget_remaining_micros"]) == (2_500, 97_500)


def test_no_budget_is_a_null_remaining_not_zero() -> None:
    row = to_row(orjson.dumps(enriched(budget_remaining=None, budget_remaining_micros=None)), 0, 0)
    assert row["budget_remaining_micros"] is None


@pytest.mark.parametrize(("value", "reason", "says"), [
    (None, "malformed", "tombstone"),
    (b"\xff\xfe", "malformed", "not UTF-8 JSON"),
    (b"[1, 2]", "malformed", "expected a JSON object"),
    (orjson.dumps({"hello": "world"}), "schema", "event_id"),
    (orjson.dumps(enriched(campaign=...)), "schema", "campaign must be an object"),
    (orjson.dumps(enriched(campaign={"name": "x"})), "schema", "campaign.advertiser_id"),
    (orjson.dumps(enriched(slot={"format": "video", "width": "640", "height": 1})), "schema", "slot.width"),
    (orjson.dumps(enriched(cost_micros=1.5)), "schema", "cost_micros"),
    (orjson.dumps(enriched(cost_micros=..., cost=...)), "schema", "cost must be a number"),
    (orjson.dumps(enriched(ts=-1)), "schema", "ts"),
    (orjson.dumps(enriched(processed_at=None)), "schema", "processed_at"),
    (orjson.dumps(enriched(trace_id=7)), "schema", "trace_id"),
    (orjson.dumps(enriched(campaign={"name": "n", "advertiser_id": "a", "advertiser_name": "A",
                                     "pricing_model": "cpm", "price": 1e300})), "schema", "campaign.price in micros"),
    (orjson.dumps(enriched(cost_micros=1 << 63)), "schema", "cost_micros"),
])
def test_what_is_not_an_enriched_record_is_garbage_with_a_reason(value, reason: str, says: str) -> None:
    garbage = to_row(value, 0, 0)
    assert isinstance(garbage, Garbage)
    assert garbage.reason == reason and says in garbage.error


def test_rows_make_a_table_of_the_schema_with_utc_timestamps() -> None:
    rows = [to_row(orjson.dumps(enriched(event_id=f"e-{i}")), 1, i) for i in range(3)]
    table = to_table(rows)
    assert table.schema == SCHEMA
    first = table.to_pylist()[0]
    assert first["ts"] == dt.datetime(2025, 12, 1, 12, tzinfo=dt.timezone.utc)
    assert table.column("source_offset").to_pylist() == [0, 1, 2]
