"""Dead letters of every agent: cut to fit the DLQ, and logged as one warning per reason per interval.

Which records are dead-lettered is up to the senders of the input topics, so the log says how many
and where (``topic[partition]@offset``), never what they held: the details are at debug level.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from config.topics import DLQ_MAX_BYTES
from pipeline.app import app, settings
from pipeline.dlq import dead_letter_record, record_limit
from pipeline.errors import DeadLetterError
from pipeline.tally import Tally

log = logging.getLogger(__name__)

LIMIT = record_limit(app.conf.producer_max_request_size, DLQ_MAX_BYTES)
tally = Tally("dead-lettered", settings.dlq_log_interval_s)


def where(message: Any) -> str:
    return f"{message.topic}[{message.partition}]@{message.offset}"


def located(message: Any) -> dict[str, Any]:
    """``extra=`` of a log line about ``message``: its own fields in JSON logs (``pipeline.logs``)."""
    return {"topic": message.topic, "partition": message.partition, "offset": message.offset}


async def dead_letter(topic: Any, message: Any, reason: str, error: str, stage: str) -> None:
    """Write ``message``'s dead letter to ``topic``, or raise DeadLetterError: never skip it."""
    log.debug("dead-lettering %s: %s: %s", where(message), reason, error, extra=located(message))
    key, value, headers = dead_letter_record(
        message, reason=reason, error=error, stage=stage, at=int(time.time() * 1000), limit=LIMIT
    )
    try:
        await topic.send(key=key, value=value, headers=headers)
    except Exception as exc:
        raise DeadLetterError(f"could not dead-letter {where(message)} as {reason}: {type(exc).__name__}") from exc
    for line in tally.add(reason, where(message)):
        log.warning("%s", line)


async def handle_or_dead_letter(
    message: Any, handle: Callable[[Any], Awaitable[None]],
    dead_letter: Callable[[Any, str, str, str], Awaitable[None]], stage: str,
) -> None:
    """``handle(message)``; a bug dead-letters the message as ``error``, never skips it; a dead letter
    that cannot be written stops the worker."""
    try:
        try:
            await handle(message)
        except DeadLetterError:
            raise
        except Exception as exc:
            # The exception may quote the payload: its text and traceback only at debug level.
            log.error("failed to process %s: %s", where(message), type(exc).__name__, extra=located(message))
            log.debug("failed to process %s", where(message), exc_info=True, extra=located(message))
            await dead_letter(message, "error", f"{type(exc).__name__}: {exc}", stage)
    except DeadLetterError as exc:
        stop_without_commit(exc)


def stop_without_commit(exc: DeadLetterError) -> NoReturn:
    """End the worker at once: its input has no outcome, so its offset must not be committed.

    Raising into Faust would ack the message and skip it (faust-streaming #527); a graceful stop
    may commit it. A restarted worker reads the record again.
    """
    log.critical("%s; stopping the worker without committing it", exc, exc_info=exc.__cause__)
    logging.shutdown()
    os._exit(70)


@app.timer(settings.dlq_log_interval_s)
async def report_dead_letters() -> None:
    for line in tally.flush():
        log.warning("%s", line)


@app.on_before_shutdown.connect
async def report_last_dead_letters(app: Any, **kwargs: Any) -> None:
    for line in tally.flush(force=True):
        log.warning("%s", line)
