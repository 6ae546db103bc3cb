"""How far a consumer group is through a topic, per partition (pipeline/kafka/offsets.py progress_rows)."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.structs import OffsetAndMetadata

from pipeline.kafka.offsets import progress_rows


def tp(partition: int) -> TopicPartition:
    return TopicPartition("tracking.batch", partition)


def test_a_committed_partition_lags_by_its_end_minus_the_commit() -> None:
    rows = progress_rows({tp(0): 120}, {tp(0): OffsetAndMetadata(100, "")})
    assert rows == [{"partition": 0, "end": 120, "committed": 100, "lag": 20}]


def test_a_partition_without_a_commit_lags_by_its_whole_end() -> None:
    assert progress_rows({tp(1): 7}, {}) == [{"partition": 1, "end": 7, "committed": None, "lag": 7}]
    assert progress_rows({tp(1): 7}, {tp(1): OffsetAndMetadata(-1, "")}) == [
        {"partition": 1, "end": 7, "committed": None, "lag": 7}]


def test_a_commit_past_the_reported_end_is_no_negative_lag() -> None:
    assert progress_rows({tp(2): 5}, {tp(2): OffsetAndMetadata(9, "")})[0]["lag"] == 0


def test_every_partition_of_the_ends_gets_a_row_in_their_order() -> None:
    rows = progress_rows({tp(3): 1, tp(0): 2}, {})
    assert [row["partition"] for row in rows] == [3, 0]
