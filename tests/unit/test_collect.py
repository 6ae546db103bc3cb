"""HTTP ingest, the pure part: pixel query to raw event, POST body to records, keys and limits."""

from __future__ import annotations

import struct

import orjson
import pytest

from pipeline.web.collect import (
    GIF,
    IngestLimits,
    Refusal,
    Refused,
    batch_records,
    campaign_key,
    ingest_headers,
    is_ndjson,
    parse_ts,
    pixel_event,
    pixel_record,
)

LIMITS = IngestLimits(max_body_bytes=10_000, max_batch=3, max_event_bytes=200)
NOW = 1_767_225_600_000
QUERY = {"e": "ev-1", "type": "impression", "c": "cmp-1", "p": "pub-1", "s": "slot-1", "ts": "1700000000000"}


def refusal(result: object) -> Refusal:
    assert isinstance(result, Refused), result
    return result.reason


def test_a_pixel_query_becomes_a_raw_event_with_the_request_details() -> None:
    event = pixel_event(QUERY, "Mozilla/5.0", "203.0.113.9", "https://news.example/a", NOW)
    assert event == {
        "event_id": "ev-1", "type": "impression", "campaign_id": "cmp-1", "publisher_id": "pub-1",
        "slot_id": "slot-1", "ts": 1700000000000, "user_agent": "Mozilla/5.0", "ip": "203.0.113.9",
        "url": "https://news.example/a",
    }


def test_a_pixel_parameter_not_sent_is_left_out_and_an_empty_one_kept() -> None:
    event = pixel_event({"e": "ev-1", "c": "", "ts": "1"}, None, None, None, NOW)
    assert event == {"event_id": "ev-1", "campaign_id": "", "ts": 1}


def test_a_pixel_without_ts_happened_when_it_was_received() -> None:
    assert pixel_event({"e": "ev-1"}, None, None, None, NOW) == {"event_id": "ev-1", "ts": NOW}


def test_an_empty_pixel_ts_is_passed_on_as_sent_for_the_pipeline_to_reject() -> None:
    assert pixel_event({"e": "ev-1", "ts": ""}, None, None, None, NOW)["ts"] == ""


def test_every_ingested_record_carries_its_receive_time_and_the_trace_context_if_any() -> None:
    assert ingest_headers(NOW, None) == [("adtrack.received_at", b"1767225600000")]
    traceparent = [("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    assert ingest_headers(NOW, traceparent) == [("adtrack.received_at", b"1767225600000"), *traceparent]


def test_unknown_pixel_parameters_are_ignored() -> None:
    assert "cb" not in pixel_event({**QUERY, "cb": "123"}, None, None, None, NOW)


@pytest.mark.parametrize(
    ("sent", "ts"),
    [("1700000000000", 1700000000000), ("-5", -5), ("0", 0), ("", ""), ("12a", "12a"), (" 12", " 12"),
     ("1_000", "1_000"), ("+12", "+12"), ("1.5", "1.5"), ("١٢", "١٢"), ("9" * 19, "9" * 19)],
)
def test_ts_is_an_integer_only_when_written_plainly_and_else_passed_on_as_sent(sent: str, ts: int | str) -> None:
    assert parse_ts(sent) == ts
    assert type(parse_ts(sent)) is type(ts)


def test_a_pixel_record_is_keyed_by_its_campaign() -> None:
    key, value = pixel_record(pixel_event(QUERY, "UA", "127.0.0.1", None, NOW), 65536)
    assert key == b"cmp-1"
    assert orjson.loads(value)["campaign_id"] == "cmp-1"


@pytest.mark.parametrize("query", [{"e": "ev-1"}, {"e": "ev-1", "c": ""}])
def test_a_pixel_without_a_campaign_has_no_key(query: dict[str, str]) -> None:
    key, _ = pixel_record(pixel_event(query, None, None, None, NOW), 65536)
    assert key is None


def test_a_pixel_event_over_the_size_limit_is_refused() -> None:
    event = pixel_event(QUERY, "x" * 300, None, None, NOW)
    assert refusal(pixel_record(event, 200)) is Refusal.EVENT_TOO_LARGE


def test_a_header_that_is_not_utf8_is_written_with_replacement_characters() -> None:
    # aiohttp hands such bytes over as lone surrogates, which JSON cannot encode.
    user_agent = b"Agent \xff".decode("utf-8", "surrogateescape")
    _, value = pixel_record(pixel_event(QUERY, user_agent, None, None, NOW), 65536)
    assert orjson.loads(value)["user_agent"] == "Agent \ufffd"


def test_ndjson_lines_are_written_as_their_original_bytes_keyed_by_campaign() -> None:
    lines = [b'{"campaign_id": "cmp-1", "event_id":"a"}', b'{"event_id":"b"}', b"not json"]
    records = batch_records(b"\n".join(lines) + b"\n", True, LIMITS)
    assert records == [(b"cmp-1", lines[0]), (None, lines[1]), (None, lines[2])]


def test_empty_lines_and_crlf_line_ends_are_dropped() -> None:
    records = batch_records(b'\r\n{"a":1}\r\n\r\n  \n{"b":2}\r\n', True, LIMITS)
    assert records == [(None, b'{"a":1}'), (None, b'{"b":2}')]


def test_a_single_event_body_is_one_record() -> None:
    assert batch_records(b' {"campaign_id":"cmp-9"}\n', False, LIMITS) == [(b"cmp-9", b'{"campaign_id":"cmp-9"}')]


@pytest.mark.parametrize(
    ("content_type", "body", "ndjson"),
    [
        ("application/x-ndjson", b'{"a":1}', True),
        ("Application/X-NDJSON", b'{"a":1}', True),
        ("application/json", b'{"a":1}\n', False),
        ("application/json", b'{"a":1}\n{"a":2}\n', True),
        ("", b'{"a":1}\n\n{"a":2}', True),
        ("application/json", b'{\n  "a": 1,\n  "b": 2\n}\n', False),  # pretty-printed: one event, not four lines
        ("application/json", b"garbage\n", False),
    ],
)
def test_ndjson_is_declared_or_several_lines_that_are_not_one_json_value(
    content_type: str, body: bytes, ndjson: bool
) -> None:
    assert is_ndjson(content_type, body) is ndjson


def test_a_batch_at_the_limit_is_accepted_and_one_more_is_refused() -> None:
    assert len(batch_records(b"{}\n" * 3, True, LIMITS)) == 3
    assert refusal(batch_records(b"{}\n" * 4, True, LIMITS)) is Refusal.BATCH_TOO_LARGE


def test_one_line_over_the_event_limit_refuses_the_whole_body() -> None:
    body = b"{}\n" + b'{"x":"' + b"y" * 200 + b'"}\n'
    assert refusal(batch_records(body, True, LIMITS)) is Refusal.EVENT_TOO_LARGE


def test_a_body_over_the_limit_is_refused() -> None:
    assert refusal(batch_records(b" " * 10_001, True, LIMITS)) is Refusal.BODY_TOO_LARGE


@pytest.mark.parametrize("body", [b"", b"\n\n \r\n"])
def test_a_body_without_events_is_refused(body: bytes) -> None:
    assert refusal(batch_records(body, True, LIMITS)) is Refusal.EMPTY


@pytest.mark.parametrize(
    ("line", "key"),
    [
        (b'{"campaign_id":"cmp-1"}', b"cmp-1"),
        ('{"campaign_id":"kampagne-ü"}'.encode(), "kampagne-ü".encode()),
        (b'{"campaign_id":""}', None),
        (b'{"campaign_id":7}', None),
        (b'{"campaign_id":null}', None),
        (b'["campaign_id"]', None),
        (b'"cmp-1"', None),
        (b"{not json", None),
        (b'{"campaign_id":"\xff"}', None),
    ],
)
def test_the_key_is_a_non_empty_string_campaign_id_or_none(line: bytes, key: bytes | None) -> None:
    assert campaign_key(line) == key


def test_the_pixel_is_a_43_byte_transparent_1x1_gif89a() -> None:
    assert len(GIF) == 43
    assert GIF[:6] == b"GIF89a" and GIF[-1:] == b";"
    width, height, flags = struct.unpack("<HHB", GIF[6:11])
    assert (width, height) == (1, 1)
    assert flags & 0x80 and flags & 0x07 == 0  # a global colour table of 2 entries
    extension = GIF[19:27]  # graphic control extension after the 6-byte colour table
    assert extension[:3] == b"!\xf9\x04"
    assert extension[3] & 0x01  # transparency flag
    assert extension[6] == 0  # transparent colour index 0
    image = GIF[27:37]
    assert image[0:1] == b"," and struct.unpack("<HHHH", image[1:9]) == (0, 0, 1, 1)
