"""Sends of the Faust agents: acknowledged, or the worker stops.

Each send is started at once and waited for until the broker acknowledges it. One that Kafka refuses
for a passing reason (``KafkaError.retriable``: a broker away, a leader moving) is sent again after a
doubling backoff (``pipeline.kafka.retry``), all within ``timeout_s`` of the first try, waits for
acknowledgements included. The producer itself retries retriable produce errors until its request
timeout (Faust's default, 20 minutes, is longer than ours), so what reaches this loop are errors of
the send call (no metadata, a full buffer, a record too large) and acknowledgements that never come.

A send that cannot succeed raises SendError: the agent stops the worker without committing its input
(``agents.deadletters``). An exception that is not Kafka's is a bug of ours and propagates as it is:
the agent dead-letters its input as ``error``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiokafka.errors import KafkaError

from pipeline.domain.errors import SendError
from pipeline.kafka.retry import Backoff

log = logging.getLogger(__name__)

#: Starts one send (Faust's ``topic.send``) and returns what resolves once the broker acknowledged it.
Start = Callable[[], Awaitable[Awaitable[Any]]]

BACKOFF = Backoff(first_s=0.1, max_s=2.0)


def kafka_error(exc: BaseException) -> KafkaError | None:
    """The Kafka error behind ``exc``, if any: Faust wraps those of the send call in ProducerSendError."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KafkaError):
            return seen
        seen = seen.__cause__
    return None


async def _acknowledged(start: Start) -> Any:
    # The deadline stops our wait, never the send itself: the producer's future is not ours to cancel.
    return await asyncio.shield(await start())


async def send_all(starts: Sequence[Start], what: str, timeout_s: float, extra: Mapping[str, Any] | None = None,
                   backoff: Backoff = BACKOFF) -> list[Any]:
    """Start every send, wait for every acknowledgement; what a retry fixes is retried.

    ``what`` names the records in errors and warnings (never their content); ``extra`` is the log
    fields of the input they come from. Raises SendError when a send cannot succeed within ``timeout_s``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    results: list[Any] = [None] * len(starts)
    pending = list(range(len(starts)))
    attempt = 0
    try:
        async with asyncio.timeout_at(deadline):
            while pending:
                outcomes = await asyncio.gather(*(_acknowledged(starts[i]) for i in pending), return_exceptions=True)
                failed: list[int] = []
                last: KafkaError | None = None
                for i, outcome in zip(pending, outcomes):
                    if not isinstance(outcome, BaseException):
                        results[i] = outcome
                        continue
                    error = kafka_error(outcome)
                    if error is None:
                        raise outcome  # ours, not Kafka's
                    if not error.retriable:
                        raise SendError(f"could not send {what}: {type(error).__name__}: {error}") from outcome
                    failed.append(i)
                    last = error
                if failed:
                    delay = backoff.delay(attempt, deadline - loop.time())
                    if delay is None:
                        raise SendError(f"could not send {what} within {timeout_s} s: {type(last).__name__}") from last
                    log.warning("sending %d record(s) of %s again in %.1f s: %s", len(failed), what, delay,
                                type(last).__name__, extra=extra)
                    await asyncio.sleep(delay)
                    attempt += 1
                pending = failed
    except TimeoutError as exc:
        raise SendError(f"{what} not acknowledged within {timeout_s} s") from exc
    return results
