"""W3C trace context: the trace id of a valid traceparent, else a fresh one."""

from __future__ import annotations

import re

import pytest

from pipeline.domain.tracing import forwarded_traceparent, known_trace_id, trace_id, valid_trace_id

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE}-00f067aa0ba902b7-01".encode()
RANDOM_ID = re.compile(r"[0-9a-f]{32}")


def test_a_valid_traceparent_gives_its_trace_id() -> None:
    assert trace_id([("traceparent", TRACEPARENT)]) == TRACE


@pytest.mark.parametrize("name", ["traceparent", "Traceparent", "TRACEPARENT", "TraceParent"])
def test_the_header_name_is_case_insensitive(name: str) -> None:
    assert trace_id([(name, TRACEPARENT)]) == TRACE


def test_the_traceparent_is_found_among_other_headers() -> None:
    headers = [("content-type", b"application/json"), ("traceparent", TRACEPARENT), ("tracestate", b"k=v")]
    assert trace_id(headers) == TRACE


def test_surrounding_whitespace_is_ignored() -> None:
    assert trace_id([("traceparent", b"  " + TRACEPARENT + b"\n")]) == TRACE


def test_a_later_version_with_extra_fields_still_gives_its_trace_id() -> None:
    assert trace_id([("traceparent", f"01-{TRACE}-00f067aa0ba902b7-01-future".encode())]) == TRACE


def test_the_first_valid_traceparent_wins_over_an_invalid_one_before_it() -> None:
    assert trace_id([("traceparent", b"garbage"), ("traceparent", TRACEPARENT)]) == TRACE


@pytest.mark.parametrize(
    "value",
    [
        TRACEPARENT.upper(),
        f"00-{TRACE.upper()}-00f067aa0ba902b7-01".encode(),
        b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        b"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # 31 hex digits
        b"00-4bf92f3577b34da6a3ce929d0e0e4736x-00f067aa0ba902b7-01",
        b"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",  # 15 hex digits of parent id
        b"00-4bf92f3577b34da6a3ce929d0e0e4736",
        b"0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        b"4bf92f3577b34da6a3ce929d0e0e4736",
        b"garbage",
        b"",
        f"ff-{TRACE}-00f067aa0ba902b7-01".encode(),
        f"00-{TRACE}-0000000000000000-01".encode(),
        TRACEPARENT + b"-extra",
        TRACEPARENT + b"x",
        f"01-{TRACE}-00f067aa0ba902b7-01x".encode(),
        f"00-{TRACE}-00F067AA0BA902B7-01".encode(),
        f"00-{TRACE}-00f067aa0ba902b7-0A".encode(),
    ],
    ids=["uppercase", "uppercase-trace-id", "all-zero", "short", "long", "not-hex", "short-parent", "truncated",
         "short-version", "bare-trace-id", "garbage", "empty", "version-ff", "zero-parent-id",
         "version-00-trailing-field", "version-00-trailing-garbage", "later-version-garbage-after-flags",
         "uppercase-parent-id", "uppercase-flags"],
)
def test_an_invalid_traceparent_gives_a_new_random_trace_id(value: bytes) -> None:
    got = trace_id([("traceparent", value)])
    assert RANDOM_ID.fullmatch(got)
    assert got not in (TRACE, TRACE.upper(), "0" * 32)


@pytest.mark.parametrize("headers", [None, [], [("tracestate", TRACEPARENT)], [("x-traceparent", TRACEPARENT)]])
def test_without_a_traceparent_header_a_new_random_trace_id_is_made(headers: list | None) -> None:
    assert RANDOM_ID.fullmatch(trace_id(headers))
    assert trace_id(headers) != TRACE


def test_new_trace_ids_differ_each_time() -> None:
    assert len({trace_id(None) for _ in range(100)}) == 100


# The ingest end: what reaches the Kafka record's traceparent header.


def test_ingest_forwards_a_valid_traceparent_as_sent() -> None:
    assert forwarded_traceparent(TRACEPARENT.decode()) == [("traceparent", TRACEPARENT)]


def test_ingest_forwards_a_later_version_with_extra_fields() -> None:
    later = f"01-{TRACE}-00f067aa0ba902b7-01-future"
    assert forwarded_traceparent(later) == [("traceparent", later.encode())]


@pytest.mark.parametrize(
    "value",
    [f"ff-{TRACE}-00f067aa0ba902b7-01", f"00-{TRACE}-0000000000000000-01", f"00-{'0' * 32}-00f067aa0ba902b7-01",
     TRACEPARENT.decode() + "-extra", TRACEPARENT.decode().upper(), "garbage", "", "\udcff" + TRACEPARENT.decode()],
    ids=["version-ff", "zero-parent-id", "zero-trace-id", "trailing-data", "uppercase", "garbage", "empty",
         "not-utf8"],
)
def test_ingest_drops_a_malformed_traceparent(value: str) -> None:
    assert forwarded_traceparent(value) is None


def test_ingest_without_a_traceparent_forwards_nothing() -> None:
    assert forwarded_traceparent(None) is None


def test_what_ingest_forwards_the_pipeline_reads_back() -> None:
    [(name, value)] = forwarded_traceparent("  " + TRACEPARENT.decode() + " ") or []
    assert (name, value) == ("traceparent", TRACEPARENT)
    assert trace_id([(name, value)]) == TRACE == (valid_trace_id(value) or b"").decode()


def test_a_known_trace_id_is_only_one_a_valid_traceparent_gives() -> None:
    assert known_trace_id([("traceparent", TRACEPARENT)]) == TRACE
    assert known_trace_id([("traceparent", b"garbage")]) is None
    assert known_trace_id(None) is None
