"""The outbox's bookkeeping: which record batch, and which place in it, an output's acknowledgement is."""

from __future__ import annotations

import pytest

from pipeline.kafka.outbox import ack_of


def test_ack_of_finds_the_record_batch_and_the_place_in_it() -> None:
    first, second = object(), object()
    acks = [(first, 3), (second, 2)]
    assert [ack_of(acks, i) for i in range(5)] == [(first, 1), (first, 2), (first, 3), (second, 1), (second, 2)]
    with pytest.raises(IndexError):
        ack_of(acks, 5)
