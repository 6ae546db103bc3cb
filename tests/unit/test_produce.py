"""The pure parts of ``produce-events``: argument checks and the summary line."""

from __future__ import annotations

import argparse
from collections import Counter

import pytest

from pipeline.sim.produce import problem, summary


def test_the_summary_lists_non_empty_buckets_in_rule_order_then_the_dlq() -> None:
    tally = Counter({"dlq:malformed": 3, "accepted": 900, "bot": 7, "duplicate": 10})
    assert summary("tracking.raw", tally, 1.2, 0) == (
        "produced 920 events to tracking.raw in 1.2 s (767/s): "
        "accepted 900, duplicate 10, bot 7, dlq:malformed 3; 0 send errors"
    )


def test_the_summary_counts_send_errors() -> None:
    assert summary("tracking.raw", Counter({"accepted": 2}), 0.5, 1).endswith("; 1 send error")
    nothing = summary("tracking.raw", Counter(), 0.0, 0)
    assert nothing == "produced 0 events to tracking.raw in 0.0 s (0/s): none; 0 send errors"


@pytest.mark.parametrize(
    ("count", "rate", "ratio", "complaint"),
    [
        (-1, 0, 0.1, "--count"),
        (10, -5, 0.1, "--rate"),
        (10, 0, 1.5, "--invalid-ratio"),
        (10, 0, -0.1, "--invalid-ratio"),
    ],
)
def test_arguments_out_of_range_are_refused_by_name(count: int, rate: float, ratio: float, complaint: str) -> None:
    args = argparse.Namespace(count=count, rate=rate, invalid_ratio=ratio)
    assert (problem(args) or "").startswith(complaint)


def test_arguments_in_range_pass() -> None:
    assert problem(argparse.Namespace(count=0, rate=0, invalid_ratio=0.0)) is None
    assert problem(argparse.Namespace(count=5, rate=100.5, invalid_ratio=1.0)) is None
