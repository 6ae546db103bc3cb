"""Fetched records follow on from the last ones taken, or are fetched again (pipeline/kafka/contiguity.py).

On a real consumer and broker: tests/integration/test_contiguity_consumer.py.
"""

from __future__ import annotations

import dataclasses

from aiokafka import TopicPartition
from hypothesis import given
from hypothesis import strategies as st

from pipeline.kafka.contiguity import MAX_REFETCHES, Contiguity, contiguous
from pipeline.runtime.metrics import fetch_gaps

TP = TopicPartition("tracking.raw", 0)


@dataclasses.dataclass(frozen=True)
class Record:
    offset: int


def records(*offsets: int) -> list[Record]:
    return [Record(o) for o in offsets]


class Consumer:
    """What ``Contiguity`` asks of a consumer: to be sent back to an offset."""

    def __init__(self) -> None:
        self.seeks: list[tuple[TopicPartition, int]] = []

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))


def gaps(action: str) -> float:
    return fetch_gaps.labels(TP.topic, action)._value.get()


def test_records_that_follow_on_are_all_taken() -> None:
    assert contiguous(records(5, 6, 7), 5) == 3
    assert contiguous(records(5, 6, 7), None) == 3


def test_records_that_start_past_the_expected_offset_are_none_taken() -> None:
    assert contiguous(records(1690, 1691), 1602) == 0


def test_a_hole_inside_ends_what_is_taken() -> None:
    assert contiguous(records(5, 6, 9, 10), 5) == 2
    assert contiguous(records(5, 5, 6), 5) == 1  # a repeated offset is no follow-on either


def test_nothing_fetched_is_nothing_taken() -> None:
    assert contiguous([], 5) == 0


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=30), st.integers(0, 50))
def test_what_is_taken_is_exactly_the_run_from_the_expected_offset(offsets: list[int], expected: int) -> None:
    count = contiguous(records(*offsets), expected)
    assert offsets[:count] == list(range(expected, expected + count))
    assert count == len(offsets) or offsets[count] != expected + count


def test_a_fetch_past_a_hole_sends_the_consumer_back_and_hands_nothing_over() -> None:
    consumer = Consumer()
    contiguity = Contiguity(consumer)  # type: ignore[arg-type]
    contiguity.expect(TP, 1602)
    before = gaps("refetched")
    assert contiguity.take(TP, records(1690, 1691)) == []
    assert consumer.seeks == [(TP, 1602)]
    assert gaps("refetched") == before + 1
    assert contiguity.take(TP, records(1602, 1603)) == records(1602, 1603)  # the fetch again: taken
    assert contiguity.take(TP, records(1604)) == records(1604)
    assert consumer.seeks == [(TP, 1602)]


def test_a_hole_inside_a_fetch_hands_over_up_to_it_and_fetches_again_from_there() -> None:
    consumer = Consumer()
    contiguity = Contiguity(consumer)  # type: ignore[arg-type]
    contiguity.expect(TP, 10)
    assert contiguity.take(TP, records(10, 11, 20, 21)) == records(10, 11)
    assert consumer.seeks == [(TP, 12)]
    assert contiguity.take(TP, records(12, 13)) == records(12, 13)


def test_a_hole_that_stays_is_stepped_over_after_the_refetches() -> None:
    consumer = Consumer()
    contiguity = Contiguity(consumer)  # type: ignore[arg-type]
    contiguity.expect(TP, 10)
    before = gaps("stepped_over")
    for _ in range(MAX_REFETCHES):
        assert contiguity.take(TP, records(12, 13)) == []
    assert consumer.seeks == [(TP, 10)] * MAX_REFETCHES
    assert contiguity.take(TP, records(12, 13)) == records(12, 13)
    assert gaps("stepped_over") == before + 1
    contiguity.expect(TP, 20)  # and the count starts again at the next hole
    for _ in range(MAX_REFETCHES):
        assert contiguity.take(TP, records(22)) == []
    assert len(consumer.seeks) == 2 * MAX_REFETCHES


def test_refetches_count_in_a_row_only() -> None:
    consumer = Consumer()
    contiguity = Contiguity(consumer)  # type: ignore[arg-type]
    contiguity.expect(TP, 10)
    before = gaps("stepped_over")
    starts = range(10, 10 + 2 * MAX_REFETCHES)
    for start in starts:  # a hole at every offset, each filled by its refetch
        assert contiguity.take(TP, records(start + 5)) == []
        assert contiguity.take(TP, records(start)) == records(start)
    assert gaps("stepped_over") == before
    assert consumer.seeks == [(TP, start) for start in starts]


def test_the_first_fetch_of_an_unknown_start_is_taken_as_it_comes() -> None:
    consumer = Consumer()
    contiguity = Contiguity(consumer)  # type: ignore[arg-type]
    contiguity.expect(TP, None)
    assert contiguity.take(TP, records(40, 41)) == records(40, 41)
    assert contiguity.take(TP, records(43)) == []
    assert consumer.seeks == [(TP, 42)]
