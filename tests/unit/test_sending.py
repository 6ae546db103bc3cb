"""Agent sends: retried while Kafka calls the error retriable, SendError when they cannot succeed,
our own exceptions passed on as they are (the agent dead-letters those as ``error``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, NotLeaderForPartitionError
from faust.exceptions import ProducerSendError

from pipeline.domain.errors import DeadLetterError, SendError
from pipeline.kafka.retry import Backoff
from pipeline.kafka.sending import kafka_error, send_all

FAST = Backoff(first_s=0.001, max_s=0.01)


class Broker:
    """Answers each send from a script of failures, then acknowledges it with its number."""

    def __init__(self, *failures: BaseException, at_send: bool = False) -> None:
        self.failures = list(failures)
        self.at_send = at_send
        self.tries = 0

    def start(self, n: int) -> Any:
        async def started() -> asyncio.Future[int]:
            self.tries += 1
            ack: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            if self.failures:
                failure = self.failures.pop(0)
                if self.at_send:  # as Faust raises errors of the send call itself
                    raise ProducerSendError(f"Error while sending: {failure!r}") from failure
                ack.set_exception(failure)
            else:
                ack.set_result(n)
            return ack

        return started


def test_retriable_failures_are_sent_again_until_acknowledged() -> None:
    broker = Broker(KafkaConnectionError(), NotLeaderForPartitionError())
    assert asyncio.run(send_all([broker.start(1), broker.start(2)], "two records", 5.0, backoff=FAST)) == [1, 2]
    assert broker.tries == 4


def test_a_retriable_error_of_the_send_call_is_retried_too() -> None:
    broker = Broker(KafkaConnectionError(), at_send=True)
    assert asyncio.run(send_all([broker.start(7)], "a record", 5.0, backoff=FAST)) == [7]


def test_a_refusal_for_good_is_a_send_error_at_once() -> None:
    broker = Broker(MessageSizeTooLargeError(), at_send=True)
    with pytest.raises(SendError, match="could not send a notification: MessageSizeTooLargeError"):
        asyncio.run(send_all([broker.start(1)], "a notification", 5.0, backoff=FAST))
    assert broker.tries == 1


def test_retries_stop_at_the_deadline() -> None:
    broker = Broker(*[KafkaConnectionError()] * 1000)
    with pytest.raises(SendError, match="within 0.05 s"):
        asyncio.run(send_all([broker.start(1)], "a record", 0.05, backoff=FAST))


def test_an_acknowledgement_that_never_comes_is_a_send_error() -> None:
    async def never() -> asyncio.Future[int]:
        return asyncio.get_running_loop().create_future()

    with pytest.raises(SendError, match="a barrier not acknowledged within 0.05 s"):
        asyncio.run(send_all([never], "a barrier", 0.05))


def test_an_exception_of_ours_passes_as_it_is() -> None:
    async def broken() -> asyncio.Future[int]:
        raise KeyError("campaign")

    with pytest.raises(KeyError):
        asyncio.run(send_all([broken], "a record", 5.0))


def test_the_kafka_error_is_found_behind_faust_wrapping() -> None:
    cause = KafkaConnectionError()
    try:
        raise ProducerSendError("Error while sending") from cause
    except ProducerSendError as wrapped:
        assert kafka_error(wrapped) is cause
    assert kafka_error(ValueError()) is None


def test_a_dead_letter_that_cannot_be_written_is_a_send_error() -> None:
    assert issubclass(DeadLetterError, SendError)
