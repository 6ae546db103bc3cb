"""``offsets.wait_drained``: a look the broker was too slow to confirm is taken again, within the deadline.

The looks themselves (``offsets.lag``) run against the embedded broker in the reliability scenarios;
here they are replaced, to hold the waiting's own rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from pipeline.domain.errors import EndOffsetError
from pipeline.kafka import offsets


def looks(monkeypatch: pytest.MonkeyPatch, answers: Iterator[dict[int, int] | EndOffsetError]) -> list[int]:
    taken: list[int] = []

    async def lag(settings: object, group: str, topic: str) -> dict[int, int]:
        taken.append(1)
        answer = next(answers)
        if isinstance(answer, EndOffsetError):
            raise answer
        return answer

    monkeypatch.setattr(offsets, "lag", lag)
    return taken


def test_a_slow_look_is_taken_again(monkeypatch: pytest.MonkeyPatch) -> None:
    slow = EndOffsetError("no fetch confirmed the end offset of t[0] within 5 s")
    taken = looks(monkeypatch, iter([{0: 7}, slow, {}, {}]))
    assert asyncio.run(offsets.wait_drained(None, "g", "t", 30)) == {}  # type: ignore[arg-type]
    assert len(taken) == 4


def test_a_slow_look_between_two_drained_ones_does_not_count_as_drained(monkeypatch: pytest.MonkeyPatch) -> None:
    slow = EndOffsetError("slow")
    taken = looks(monkeypatch, iter([{}, slow, {}, {}]))
    assert asyncio.run(offsets.wait_drained(None, "g", "t", 30)) == {}  # type: ignore[arg-type]
    assert len(taken) == 4  # twice drained in a row after the failed look, not once before and once after


def test_when_the_last_look_failed_its_error_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    slow = EndOffsetError("no fetch confirmed the end offset of t[0] within 5 s")
    looks(monkeypatch, iter([{0: 3}] + [slow] * 100))
    with pytest.raises(EndOffsetError, match="t\\[0\\]"):
        asyncio.run(offsets.wait_drained(None, "g", "t", 1.2))  # type: ignore[arg-type]


def test_lag_left_at_the_deadline_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    looks(monkeypatch, iter([{0: 3}] * 100))
    assert asyncio.run(offsets.wait_drained(None, "g", "t", 1.2)) == {0: 3}  # type: ignore[arg-type]
