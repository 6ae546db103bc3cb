"""Dead-letter headers: what went wrong where, next to the original headers."""

from __future__ import annotations

from typing import Any

from pipeline.dlq import dlq_headers

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
