"""Broker reads the pages show: cached, bounded in time, failures shown and logged once, bugs not hidden."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest
from aiokafka.errors import KafkaConnectionError

from pipeline.web.readings import Reading, why
from pipeline.web.recent import Recent


class Broker:
    """A read whose outcome the test sets: a value, or an exception to raise."""

    def __init__(self) -> None:
        self.outcome: object = [{"partition": 0, "lag": 0}]
        self.reads = 0

    async def read(self) -> object:
        self.reads += 1
        await asyncio.sleep(0)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def run(body: Callable[[], Awaitable[object]]) -> object:
    return asyncio.run(body())


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "pipeline.web.readings" and r.levelno >= logging.INFO]


def test_concurrent_requests_share_one_read() -> None:
    broker = Broker()

    async def body() -> object:
        reading = Reading("the lag", broker.read, ttl=60, timeout=5)
        return await asyncio.gather(*(reading.get() for _ in range(5)))

    assert run(body) == [broker.outcome] * 5
    assert broker.reads == 1


def test_a_failing_read_says_why_and_is_logged_once_per_reason_and_once_when_it_works_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pipeline.web.readings")
    broker = Broker()

    async def body() -> list[object]:
        reading = Reading("the lag of group g on t", broker.read, ttl=0, timeout=5)
        answers = []
        for outcome in (KafkaConnectionError("no broker"), KafkaConnectionError("no broker"), TimeoutError(),
                        [{"partition": 0, "lag": 3}], [{"partition": 0, "lag": 1}]):
            broker.outcome = outcome
            answers.append(await reading.get())
        return answers

    answers = run(body)
    assert answers[:3] == ["KafkaConnectionError: no broker", "KafkaConnectionError: no broker", "TimeoutError"]
    assert answers[3:] == [[{"partition": 0, "lag": 3}], [{"partition": 0, "lag": 1}]]
    assert warnings(caplog) == [
        "could not read the lag of group g on t: KafkaConnectionError: no broker; the pages show why",
        "could not read the lag of group g on t: TimeoutError; the pages show why",
        "the lag of group g on t read again after: TimeoutError",
    ]


def test_a_read_slower_than_its_time_limit_is_a_timeout() -> None:
    async def never() -> object:
        await asyncio.Event().wait()
        return None

    async def body() -> object:
        return await Reading("the lag", never, ttl=0, timeout=0.01).get()

    assert run(body) == "TimeoutError"


def test_a_bug_in_a_read_is_not_hidden() -> None:
    broker = Broker()
    broker.outcome = KeyError("partition")

    async def body() -> object:
        return await Reading("the lag", broker.read, ttl=0, timeout=5).get()

    with pytest.raises(KeyError):
        run(body)


def test_recent_computes_again_once_its_result_is_older_than_its_ttl() -> None:
    broker = Broker()

    async def body() -> None:
        recent = Recent(ttl=0)
        await recent.get("k", broker.read)
        await recent.get("k", broker.read)

    run(body)
    assert broker.reads == 2


def test_an_error_reads_as_its_type_and_message() -> None:
    assert why(KafkaConnectionError("down")) == "KafkaConnectionError: down"
    assert why(TimeoutError()) == "TimeoutError"
