"""Dead letters: what went wrong where, next to the original headers, cut to fit when too large."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from hypothesis import given
from hypothesis import strategies as st

from pipeline.domain.dlq import RECORD_OVERHEAD, dead_letter_record, dlq_headers, fit_dead_letter, record_limit, record_size

WHERE: dict[str, Any] = {"topic": "tracking.raw", "partition": 3, "offset": 1234, "stage": "decode", "at": 1767225600000}


def test_every_dlq_header_is_present_with_its_exact_value() -> None:
    headers = dlq_headers(None, reason="schema", error="ts must be an integer (epoch milliseconds)", **WHERE)
    assert headers == [
        ("dlq.reason", b"schema"),
        ("dlq.error", b"ts must be an integer (epoch milliseconds)"),
        ("dlq.topic", b"tracking.raw"),
        ("dlq.partition", b"3"),
        ("dlq.offset", b"1234"),
        ("dlq.stage", b"decode"),
        ("dlq.at", b"1767225600000"),
    ]


def test_original_headers_are_kept_first_and_in_order() -> None:
    original = [("traceparent", b"00-abc"), ("content-type", b"application/json"), ("traceparent", b"dup")]
    headers = dlq_headers(original, reason="malformed", error="e", **WHERE)
    assert headers[:3] == original
    assert [k for k, _ in headers[3:]] == [
        "dlq.reason", "dlq.error", "dlq.topic", "dlq.partition", "dlq.offset", "dlq.stage", "dlq.at"
    ]


def test_an_empty_header_list_is_like_none() -> None:
    assert dlq_headers([], reason="r", error="e", **WHERE) == dlq_headers(None, reason="r", error="e", **WHERE)


def test_earlier_dlq_headers_are_replaced_not_duplicated() -> None:
    first = dlq_headers([("traceparent", b"tp")], reason="schema", error="first", **WHERE)
    again = dlq_headers(
        first + [("dlq.retry", b"1")], reason="error", error="second",
        topic="tracking.dlq", partition=0, offset=7, stage="process", at=1,
    )
    assert again == [
        ("traceparent", b"tp"),
        ("dlq.reason", b"error"),
        ("dlq.error", b"second"),
        ("dlq.topic", b"tracking.dlq"),
        ("dlq.partition", b"0"),
        ("dlq.offset", b"7"),
        ("dlq.stage", b"process"),
        ("dlq.at", b"1"),
    ]


def test_the_original_header_list_is_not_changed() -> None:
    original = [("dlq.reason", b"old"), ("k", b"v")]
    dlq_headers(original, reason="r", error="e", **WHERE)
    assert original == [("dlq.reason", b"old"), ("k", b"v")]


def test_a_long_error_is_cut_to_1024_bytes() -> None:
    headers = dict(dlq_headers(None, reason="r", error="x" * 5000, **WHERE))
    assert headers["dlq.error"] == b"x" * 1024


def test_an_error_cut_inside_a_multibyte_character_stays_valid_utf8() -> None:
    error = "x" * 1023 + "é" * 10  # the cut at byte 1024 falls inside the first "é"
    headers = dict(dlq_headers(None, reason="r", error=error, **WHERE))
    assert headers["dlq.error"].decode() == "x" * 1023


def test_non_ascii_values_are_utf8_encoded() -> None:
    headers = dict(dlq_headers(None, reason="schema", error="campaign 'café' ✗", **WHERE))
    assert headers["dlq.error"] == "campaign 'café' ✗".encode()


# A dead letter too large to write whole is cut to fit and says so: every record gets an outcome.

DLQ = dlq_headers([("traceparent", b"00-abc")], reason="oversized", error="2000000 bytes is over the limit", **WHERE)


def test_the_limit_is_the_smaller_of_the_producer_and_topic_limits_less_the_record_overhead() -> None:
    assert record_limit(2_097_152, 1_048_588) == 1_048_588 - RECORD_OVERHEAD
    assert record_limit(1_000_000, 2_097_152) == 1_000_000 - RECORD_OVERHEAD


def test_a_dead_letter_that_fits_is_written_unchanged() -> None:
    value = b"v" * 1000
    assert fit_dead_letter(b"cmp-1", value, DLQ, record_size(b"cmp-1", value, DLQ)) == (b"cmp-1", value, DLQ)


def test_a_value_over_the_limit_is_cut_to_fit_and_the_headers_say_so() -> None:
    value = bytes(range(256)) * 8000  # 2,048,000 bytes
    key, cut, headers = fit_dead_letter(b"cmp-1", value, DLQ, 1_000_000)
    assert key == b"cmp-1" and headers[: len(DLQ)] == DLQ
    assert dict(headers[len(DLQ):]) == {
        "dlq.truncated": b"value",
        "dlq.original_size": b"2048000",
        "dlq.original_sha256": hashlib.sha256(value).hexdigest().encode(),
    }
    assert value.startswith(cut) and record_size(key, cut, headers) <= 1_000_000
    assert len(cut) > 1_000_000 - 1000  # cut no more than needed


def test_headers_too_large_to_keep_are_dropped_except_the_dlq_ones() -> None:
    big = [("x-junk", b"j" * 600_000), ("x-more", b"m" * 600_000)]
    headers = dlq_headers(big, reason="oversized", error="e", **WHERE)
    key, value, out = fit_dead_letter(b"k", b"v" * 10, headers, 100_000)
    assert [k for k, _ in out if not k.startswith("dlq.")] == []
    assert dict(out)["dlq.truncated"] == b"headers" and value == b"v" * 10


def test_a_key_too_large_to_keep_is_cut_last() -> None:
    key, value, out = fit_dead_letter(b"k" * 200_000, b"v" * 10, DLQ, 50_000)
    assert dict(out)["dlq.truncated"] == b"value,headers,key"
    assert value == b"" and b"k" * 200_000 != key and (b"k" * 200_000).startswith(key)
    assert record_size(key, value, out) <= 50_000


def test_a_tombstone_stays_a_tombstone_when_cut() -> None:
    key, value, out = fit_dead_letter(b"", None, [("x", b"h" * 5000), *DLQ], 2000)
    assert value is None and dict(out)["dlq.truncated"] == b"headers"
    assert dict(out)["dlq.original_size"] == b"0"


def test_a_limit_below_the_dlq_headers_is_an_error_not_a_silent_loss() -> None:
    with pytest.raises(ValueError, match="over the limit of 100 bytes"):
        fit_dead_letter(b"k", b"v" * 1000, DLQ, 100)


@given(
    key=st.none() | st.binary(max_size=3000),
    value=st.none() | st.binary(max_size=6000),
    extra=st.lists(st.tuples(st.text(max_size=10), st.binary(max_size=2000)), max_size=4),
    limit=st.integers(900, 8000),
)
def test_a_dead_letter_always_fits_the_producer_and_keeps_a_prefix_of_what_it_cut(key, value, extra, limit) -> None:
    headers = dlq_headers(extra, reason="r", error="e", **WHERE)
    k, v, h = fit_dead_letter(key, value, headers, limit)
    # aiokafka's own estimate of the record, as its producer checks it against max_request_size
    assert DefaultRecordBatchBuilder.estimate_size_in_bytes(k, v, h) <= limit + RECORD_OVERHEAD
    assert (k is None) == (key is None) and (v is None) == (value is None)
    assert (key or b"").startswith(k or b"") and (value or b"").startswith(v or b"")
    if (k, v, h) != (key, value, headers):
        assert dict(h)["dlq.original_sha256"] == hashlib.sha256(value or b"").hexdigest().encode()


def test_a_dead_letter_record_is_built_from_the_message_and_fitted() -> None:
    message = SimpleNamespace(topic="tracking.raw", partition=3, offset=1234, key=None, value=b"x" * 5000,
                              headers=[("traceparent", b"00-abc")])
    key, value, headers = dead_letter_record(message, reason="oversized", error="e", stage="decode",
                                             at=1767225600000, limit=2000)
    assert key is None and b"x" * 5000 != value and dict(headers)["dlq.partition"] == b"3"
    assert dict(headers)["dlq.truncated"] == b"value"
