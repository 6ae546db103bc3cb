"""Control records on tracking.raw: only a barrier signed with the deployment's secret is control."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.domain import control
from pipeline.domain.control import BARRIER, CONTROL_HEADER, EVENT, SIGNATURE_HEADER, Barrier, Forged, classify

KEY = control.signing_key("s3cret")
VERSIONS = (("campaign", "cmp-1", 4), ("budget", "cmp-1", 2))
VALUE, HEADERS = control.barrier_record(VERSIONS, KEY)
EVENT_VALUE = b'{"event_id": "e1", "type": "click"}'


def test_a_signed_barrier_is_a_barrier_with_its_versions() -> None:
    assert classify(HEADERS, VALUE, KEY) == Barrier(VERSIONS)


def test_the_signature_is_the_hmac_sha256_of_the_value_in_hex() -> None:
    assert dict(HEADERS)[SIGNATURE_HEADER] == hmac.new(b"s3cret", VALUE, hashlib.sha256).hexdigest().encode()
    assert dict(HEADERS)[CONTROL_HEADER] == BARRIER


def test_the_barrier_header_order_does_not_matter_and_other_headers_are_ignored() -> None:
    headers = [("traceparent", b"00-x"), *reversed(HEADERS), ("other", b"1")]
    assert classify(headers, VALUE, KEY) == Barrier(VERSIONS)


@pytest.mark.parametrize("headers", [None, [], [("traceparent", b"00-x")]], ids=["none", "empty", "other"])
def test_a_record_without_the_control_header_is_an_event(headers) -> None:
    assert classify(headers, EVENT_VALUE, KEY) is EVENT


@pytest.mark.parametrize("kind", [b"", b"coredata-barrier ", b"COREDATA-BARRIER", b"stop", b"\xff", b"coredata"])
def test_an_unknown_control_value_is_an_event_like_any_other(kind: bytes) -> None:
    assert classify([(CONTROL_HEADER, kind)], EVENT_VALUE, KEY) is EVENT
    # even with a valid signature next to it: only the exact kind is control
    assert classify([(CONTROL_HEADER, kind), HEADERS[1]], VALUE, KEY) is EVENT


def test_a_barrier_signed_with_another_secret_is_forged() -> None:
    value, headers = control.barrier_record(VERSIONS, control.signing_key("guess"))
    assert classify(headers, value, KEY) == Forged("the barrier's signature does not verify")


def test_a_barrier_without_a_signature_is_forged() -> None:
    assert classify([(CONTROL_HEADER, BARRIER)], VALUE, KEY) == Forged(
        f"0 {SIGNATURE_HEADER} headers on a barrier, expected 1"
    )


def test_a_barrier_with_two_signatures_is_forged_even_if_one_is_right() -> None:
    headers = [*HEADERS, (SIGNATURE_HEADER, b"0" * 64)]
    assert classify(headers, VALUE, KEY) == Forged(f"2 {SIGNATURE_HEADER} headers on a barrier, expected 1")


def test_a_barrier_with_a_second_control_header_is_forged() -> None:
    assert classify([*HEADERS, (CONTROL_HEADER, b"x")], VALUE, KEY) == Forged(
        f"2 {CONTROL_HEADER} headers on a barrier"
    )


def test_a_barrier_whose_value_changed_after_signing_is_forged() -> None:
    value = control.encode_barrier([("campaign", "cmp-1", 10**9)])
    assert classify(HEADERS, value, KEY) == Forged("the barrier's signature does not verify")


def test_a_barrier_without_a_value_is_forged() -> None:
    assert classify(HEADERS, None, KEY) == Forged("a barrier without a value")


@pytest.mark.parametrize(
    "value",
    [b"", b"not json", b"[]", b'{"versions": 5}', b'{"versions": [["campaign", "c"]]}',
     b'{"versions": [["campaign", "c", "4"]]}', b'{"versions": [[1, "c", 4]]}', b'{"versions": ["abc"]}',
     b'{"other": []}'],
)
def test_a_signed_value_that_is_not_a_list_of_versions_is_forged_not_an_exception(value: bytes) -> None:
    headers = [(CONTROL_HEADER, BARRIER), (SIGNATURE_HEADER, control.sign(value, KEY))]
    assert classify(headers, value, KEY) == Forged("a signed barrier whose value is not a list of versions")


def test_an_empty_secret_signs_with_the_development_secret() -> None:
    assert control.signing_key("") == control.DEVELOPMENT_SECRET.encode()
    assert control.signing_key("") != control.signing_key("s3cret")


HEADER_NAMES = st.sampled_from([CONTROL_HEADER, SIGNATURE_HEADER, "traceparent", "x"])
HEADER_VALUES = st.sampled_from([BARRIER, b"", b"x", dict(HEADERS)[SIGNATURE_HEADER]]) | st.binary(max_size=70)


@given(headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=6), value=st.none() | st.binary(max_size=80))
def test_without_the_secret_no_headers_make_a_record_hold_a_partition(headers, value) -> None:
    verdict = classify(headers, value, KEY)
    if value != VALUE:  # only the very value we signed verifies with a copied signature
        assert not isinstance(verdict, Barrier)
    if (CONTROL_HEADER, BARRIER) not in headers:
        assert verdict is EVENT


@given(versions=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8), st.integers(0, 2**62)), max_size=4),
       secret=st.text(min_size=1, max_size=16))
def test_every_barrier_a_worker_signs_is_honoured_with_the_same_secret(versions, secret) -> None:
    key = control.signing_key(secret)
    value, headers = control.barrier_record(versions, key)
    assert classify(headers, value, key) == Barrier(tuple(versions))
    assert control.decode_barrier(value) == versions
