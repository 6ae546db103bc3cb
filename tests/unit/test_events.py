"""Raw events: decoding, the schema, and what counts as poison."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pipeline.domain.errors import MalformedError, OversizedError, PoisonError, SchemaError
from pipeline.domain.events import MAX_EVENT_ID_CHARS, MAX_ID_CHARS, decode_event, peek_event_id
from tests import factories

LIMIT = 65536


def raw(**overrides: Any) -> dict[str, Any]:
    """A valid raw event as a dict; an override of ``...`` removes the field."""
    event = factories.event("cmp-1", "pub-1", "slot-1", event_id="ev-1", ts=1_767_225_600_000)
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not ...}


def encode(event: Any) -> bytes:
    return orjson.dumps(event)


def schema_error(event: Any) -> str:
    with pytest.raises(SchemaError) as info:
        decode_event(encode(event), LIMIT)
    return str(info.value)


def test_a_valid_event_decodes_to_the_same_dict() -> None:
    event = raw()
    assert decode_event(encode(event), LIMIT) == event


@pytest.mark.parametrize("event_type", ["impression", "click", "conversion"])
def test_every_event_type_is_accepted(event_type: str) -> None:
    assert decode_event(encode(raw(type=event_type)), LIMIT)["type"] == event_type


def test_a_tombstone_is_malformed() -> None:
    with pytest.raises(MalformedError, match=r"^no value \(tombstone\)$"):
        decode_event(None, LIMIT)


def test_poison_errors_carry_the_reason_that_goes_to_the_dlq() -> None:
    assert (MalformedError.reason, SchemaError.reason, OversizedError.reason) == ("malformed", "schema", "oversized")
    assert all(issubclass(e, PoisonError) for e in (MalformedError, SchemaError, OversizedError))


def test_an_event_of_exactly_the_limit_is_decoded() -> None:
    value = encode(raw())
    assert decode_event(value, len(value)) == raw()


def test_an_event_one_byte_over_the_limit_is_oversized() -> None:
    value = encode(raw())
    with pytest.raises(OversizedError) as info:
        decode_event(value, len(value) - 1)
    assert str(info.value) == f"{len(value)} bytes is over the limit of {len(value) - 1}"


def test_size_is_checked_before_parsing_so_oversized_garbage_is_oversized() -> None:
    with pytest.raises(OversizedError):
        decode_event(b"\xff" * 11, 10)


@pytest.mark.parametrize(
    "value",
    [b"", b"{", b"not json", b'{"event_id": "a",}', b"\xff\xfe", b'{"event_id": "\xff"}', b"NaN", b'{"a": 1e400}'],
    ids=["empty", "truncated", "text", "trailing-comma", "invalid-utf8", "invalid-utf8-in-string", "nan", "inf"],
)
def test_bytes_that_are_not_utf8_json_are_malformed(value: bytes) -> None:
    with pytest.raises(MalformedError, match=r"^not UTF-8 JSON: "):
        decode_event(value, LIMIT)


def test_json_nested_beyond_the_parser_depth_is_malformed() -> None:
    with pytest.raises(MalformedError):
        decode_event(b"[" * 2000 + b"]" * 2000, LIMIT)


@pytest.mark.parametrize(
    ("value", "kind"),
    [(b"[]", "list"), (b"[{}]", "list"), (b'"text"', "str"), (b"42", "int"), (b"4.2", "float"), (b"true", "bool"),
     (b"null", "NoneType")],
)
def test_json_that_is_not_an_object_is_malformed(value: bytes, kind: str) -> None:
    with pytest.raises(MalformedError) as info:
        decode_event(value, LIMIT)
    assert str(info.value) == f"expected a JSON object, got {kind}"


EVENT_ID_ERROR = f"event_id must be a string of 1-{MAX_EVENT_ID_CHARS} characters"
TYPE_ERROR = "type must be one of ['click', 'conversion', 'impression']"
TS_ERROR = "ts must be an integer (epoch milliseconds)"


@pytest.mark.parametrize("value", [..., None, "", 7, 7.0, True, ["ev"], {"id": "ev"}, "x" * 65])
def test_event_id_must_be_a_string_of_1_to_64_characters(value: Any) -> None:
    assert schema_error(raw(event_id=value)) == EVENT_ID_ERROR


@pytest.mark.parametrize("length", [1, 64])
def test_event_id_lengths_at_the_bounds_are_accepted(length: int) -> None:
    assert decode_event(encode(raw(event_id="e" * length)), LIMIT)["event_id"] == "e" * length


def test_event_id_length_counts_characters_not_bytes() -> None:
    event_id = "é" * 64  # 128 bytes in UTF-8
    assert decode_event(encode(raw(event_id=event_id)), LIMIT)["event_id"] == event_id


@pytest.mark.parametrize("value", [..., None, "", "Impression", "view", 1, True, ["click"], {"click": 1}])
def test_type_must_be_impression_click_or_conversion(value: Any) -> None:
    assert schema_error(raw(type=value)) == TYPE_ERROR


@pytest.mark.parametrize("value", [..., None, "1767225600000", 1767225600000.0, 1.5, True, False, [1]])
def test_ts_must_be_an_integer_and_a_bool_is_not_one(value: Any) -> None:
    assert schema_error(raw(ts=value)) == TS_ERROR


@pytest.mark.parametrize("ts", [0, -1, 2**63 - 1, 2**64 - 1, -(2**63)])
def test_ts_accepts_any_integer_the_parser_keeps_exact(ts: int) -> None:
    assert decode_event(encode(raw(ts=ts)), LIMIT)["ts"] == ts


@pytest.mark.parametrize("text", [b"18446744073709551616", b"-9223372036854775809", b"1" * 40])
def test_ts_beyond_64_bits_parses_as_a_float_and_is_a_schema_error(text: bytes) -> None:
    value = encode(raw(ts=0)).replace(b'"ts":0', b'"ts":' + text)
    with pytest.raises(SchemaError, match=r"^ts must be an integer"):
        decode_event(value, LIMIT)


@pytest.mark.parametrize("name", ["campaign_id", "publisher_id", "slot_id"])
@pytest.mark.parametrize("value", [..., None, "", 1, True, ["x"], {"id": "x"}])
def test_campaign_publisher_and_slot_ids_must_be_non_empty_strings(name: str, value: Any) -> None:
    assert schema_error(raw(**{name: value})) == f"{name} must be a non-empty string"


@pytest.mark.parametrize("name", ["campaign_id", "publisher_id", "slot_id"])
def test_campaign_publisher_and_slot_ids_are_at_most_256_characters(name: str) -> None:
    assert decode_event(encode(raw(**{name: "é" * MAX_ID_CHARS})), LIMIT)[name] == "é" * MAX_ID_CHARS
    assert schema_error(raw(**{name: "x" * (MAX_ID_CHARS + 1)})) == f"{name} is over 256 characters"


@pytest.mark.parametrize("name", ["user_agent", "ip", "url", "user_id"])
def test_optional_strings_may_be_absent_or_null(name: str) -> None:
    absent = raw(**{name: ...})
    null = raw(**{name: None})
    assert decode_event(encode(absent), LIMIT) == absent
    assert decode_event(encode(null), LIMIT) == null


@pytest.mark.parametrize("name", ["user_agent", "ip", "url", "user_id"])
def test_optional_strings_may_be_empty(name: str) -> None:
    assert decode_event(encode(raw(**{name: ""})), LIMIT)[name] == ""


@pytest.mark.parametrize("name", ["user_agent", "ip", "url", "user_id"])
@pytest.mark.parametrize("value", [1, 1.5, True, ["x"], {"x": 1}])
def test_optional_strings_must_be_strings_when_present(name: str, value: Any) -> None:
    assert schema_error(raw(**{name: value})) == f"{name} must be a string when present"


def test_unknown_fields_pass_through_unchanged() -> None:
    event = raw(sdk={"name": "web", "version": [1, 2]}, experiment=None, score=1.5, big=2**64 - 1)
    assert decode_event(encode(event), LIMIT) == event


def test_the_first_schema_problem_is_reported() -> None:
    assert schema_error({"type": "nope"}) == EVENT_ID_ERROR
    assert schema_error({"event_id": "ev", "type": "nope"}) == TYPE_ERROR
    assert schema_error({"event_id": "ev", "type": "click"}) == TS_ERROR
    assert schema_error({"event_id": "ev", "type": "click", "ts": 1}) == "campaign_id must be a non-empty string"


def test_peek_finds_the_event_id_of_an_event_that_fails_its_schema() -> None:
    assert peek_event_id(encode({"event_id": "ev-9", "type": "bogus"})) == "ev-9"


def test_peek_cuts_a_long_event_id_to_64_characters() -> None:
    assert peek_event_id(encode({"event_id": "x" * 100})) == "x" * 64


@pytest.mark.parametrize(
    "value",
    [None, b"", b"not json", b"\xff", b"[]", b'"ev"', b'{"id": "ev"}', b'{"event_id": 7}', b'{"event_id": null}',
     b'{"event_id": "' + b"x" * 1_000_000 + b'"}'],
    ids=["tombstone", "empty", "text", "invalid-utf8", "list", "string", "no-event-id", "int-id", "null-id", "huge"],
)
def test_peek_returns_none_when_there_is_no_event_id_to_find(value: bytes | None) -> None:
    assert peek_event_id(value) is None
