"""The enriched record: the raw event plus what the pipeline knows about it."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.domain.enrich import ENRICHED_FIELDS, core_fields, encode_enriched, enrich, event_fields, received_at
from pipeline.domain.rules import Accepted
from tests import factories

NOW = 1_767_225_600_000
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def accepted(cost_micros: int = 2_500) -> Accepted:
    return Accepted(
        campaign=factories.campaign_data(start_ts=NOW - 1000, price=2.5),
        publisher=factories.publisher_data(),
        slot=factories.slot_data("pub-1", format="video", width=640, height=360),
        cost_micros=cost_micros,
    )


def raw(**overrides: Any) -> dict[str, Any]:
    return factories.event("cmp-1", "pub-1", "slot-1", event_id="ev-1", ts=NOW - 50, **overrides)


def test_the_record_is_the_raw_event_with_campaign_publisher_and_slot_blocks() -> None:
    event = raw()
    assert enrich(event, accepted(), 97_500, NOW, TRACE) == {
        **event,
        "campaign": {
            "id": "cmp-1",
            "name": "Spring Sale",
            "advertiser_id": "adv-acme",
            "advertiser_name": "Acme Outdoor",
            "pricing_model": "cpm",
            "price": 2.5,
        },
        "publisher": {"id": "pub-1", "name": "Daily Ledger", "domain": "dailyledger.example"},
        "slot": {"id": "slot-1", "format": "video", "width": 640, "height": 360},
        "cost": 0.0025,
        "budget_remaining": 0.0975,
        "cost_micros": 2500,
        "budget_remaining_micros": 97_500,
        "received_at": None,
        "processed_at": NOW,
        "trace_id": TRACE,
    }


def test_budget_remaining_is_none_when_the_campaign_has_no_budget() -> None:
    record = enrich(raw(), accepted(), None, NOW, TRACE)
    assert record["budget_remaining"] is None and record["budget_remaining_micros"] is None


def test_a_spent_budget_is_zero_remaining_not_none() -> None:
    assert enrich(raw(), accepted(), 0, NOW, TRACE)["budget_remaining"] == 0.0


def test_a_free_event_costs_zero() -> None:
    record = enrich(raw(type="click"), accepted(cost_micros=0), None, NOW, TRACE)
    assert (record["cost"], record["cost_micros"]) == (0.0, 0)


def test_unknown_raw_fields_pass_through() -> None:
    event = raw(sdk={"name": "web", "version": "3.1"}, experiment="b", user_id=None)
    record = enrich(event, accepted(), None, NOW, TRACE)
    assert (record["sdk"], record["experiment"], record["user_id"]) == ({"name": "web", "version": "3.1"}, "b", None)


def test_core_data_fields_outside_the_blocks_are_left_out() -> None:
    record = enrich(raw(), accepted(), None, NOW, TRACE)
    assert set(record["campaign"]) == {"id", "name", "advertiser_id", "advertiser_name", "pricing_model", "price"}
    assert "status" not in record["publisher"] and "publisher_id" not in record["slot"]


def test_the_raw_event_is_not_changed() -> None:
    event = raw()
    before = dict(event)
    enrich(event, accepted(), None, NOW, TRACE)
    assert event == before


def test_the_record_is_json_serialisable() -> None:
    record = enrich(raw(), accepted(), 97_500, NOW, TRACE)
    assert orjson.loads(orjson.dumps(record)) == record


def test_the_receive_time_of_http_ingest_is_copied_into_the_record() -> None:
    record = enrich(raw(), accepted(), None, NOW, TRACE, received_at=NOW - 20)
    assert (record["received_at"], record["ts"], record["processed_at"]) == (NOW - 20, NOW - 50, NOW)


def test_a_client_cannot_claim_a_receive_time_in_the_event() -> None:
    assert enrich(raw(received_at=1), accepted(), None, NOW, TRACE)["received_at"] is None


def test_the_receive_time_is_read_from_the_first_well_formed_header() -> None:
    assert received_at([("traceparent", b"x"), ("adtrack.received_at", b"1767225600000")]) == NOW
    assert received_at([("adtrack.received_at", b"-5"), ("adtrack.received_at", b"12")]) == 12
    assert received_at([("adtrack.received_at", b"1" * 19)]) is None
    assert received_at([]) is None and received_at(None) is None


_ints = st.integers(-(1 << 63), (1 << 63) - 1)  # what JSON decoding gives
_values = st.one_of(st.none(), st.booleans(), _ints, st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=20), st.lists(_ints, max_size=3),
                    st.dictionaries(st.text(max_size=5), _ints, max_size=3))
# Extra fields of a raw event: any name, the enriched record's own among them.
_extra = st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(sorted(ENRICHED_FIELDS))), _values, max_size=6)


@settings(max_examples=200)
@given(_extra, st.one_of(st.none(), st.integers(-(1 << 50), 1 << 50)), st.one_of(st.none(), st.integers(0, 1 << 50)),
       st.integers(0, 1 << 20))
def test_encoding_with_the_core_fields_encoded_once_gives_the_bytes_of_the_enriched_record(
    extra: dict[str, Any], remaining: int | None, received: int | None, cost: int
) -> None:
    event = {**raw(), **extra}
    verdict = accepted(cost_micros=cost)
    fields = event_fields(verdict, remaining, NOW, TRACE, received)
    encoded = encode_enriched(event, orjson.dumps(core_fields(event, verdict)), fields)
    assert encoded == orjson.dumps(enrich(event, verdict, remaining, NOW, TRACE, received))
