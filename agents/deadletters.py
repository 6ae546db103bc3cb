"""Dead letters of every agent, and what an agent does when a record cannot be handled.

A record our processing fails on (a bug) is dead-lettered as ``error``, never skipped. A send Kafka
refuses for good, or does not acknowledge in time, is no bug of the record's: the worker stops with
the record uncommitted and reads it again once restarted (``pipeline.kafka.sending``).

Which records are dead-lettered is up to the senders of the input topics, so the log says how many
and where (``topic[partition]@offset``), never what they held: the details are at debug level.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from aiokafka.partitioner import murmur2

from config.topics import DLQ_MAX_BYTES
from pipeline.app import app, settings
from pipeline.domain.dlq import dead_letter_record, record_limit
from pipeline.domain.errors import DeadLetterError, SendError
from pipeline.kafka.batches import OutputRecord
from pipeline.kafka.sending import kafka_error, send_all
from pipeline.runtime.tally import Place, Tally
from pipeline.state.batch import DeadLetter

log = logging.getLogger(__name__)

LIMIT = record_limit(app.conf.producer_max_request_size, DLQ_MAX_BYTES)
tally = Tally("dead-lettered", settings.dlq_log_interval_s)


def where(message: Any) -> Place:
    """The message's place: ``topic[partition]@offset`` in text."""
    return Place(message.topic, message.partition, message.offset)


def located(message: Any) -> dict[str, Any]:
    """``extra=`` of a log line about ``message``: its own fields in JSON logs (``pipeline.runtime.logs``)."""
    return where(message).fields()


async def dead_letter(topic: Any, message: Any, reason: str, error: str, stage: str) -> None:
    """Write ``message``'s dead letter to ``topic``, or raise DeadLetterError: never skip it."""
    log.debug("dead-lettering %s: %s: %s", where(message), reason, error, extra=located(message))
    key, value, headers = dead_letter_record(
        message, reason=reason, error=error, stage=stage, at=int(time.time() * 1000), limit=LIMIT
    )
    try:
        await send_all([lambda: topic.send(key=key, value=value, headers=headers)],
                       f"the dead letter of {where(message)}", settings.send_timeout_s, located(message))
    except Exception as exc:
        raise DeadLetterError(f"could not dead-letter {where(message)} as {reason}: {type(exc).__name__}") from exc
    for line in tally.add(reason, where(message)):
        log.warning("%s", line, extra=line.fields)


def batch_dead_letter(letter: DeadLetter, now: int, partitions: int) -> tuple[int, OutputRecord]:
    """A tracking batch's dead letter and its DLQ partition, cut to fit if need be; logged as a count.

    The partition is where the producer's default partitioner would put it: by key, else beside the
    record's source partition.
    """
    record = letter.record
    log.debug("dead-lettering %s: %s: %s", where(record), letter.reason, letter.error, extra=located(record))
    for line in tally.add(letter.reason, where(record)):
        log.warning("%s", line, extra=line.fields)
    key, value, headers = dead_letter_record(record, reason=letter.reason, error=letter.error, stage=letter.stage,
                                             at=now, limit=LIMIT)
    partition = (murmur2(key) & 0x7FFFFFFF) % partitions if key is not None else record.partition % partitions
    return partition, (key, value, headers)


async def handle_or_dead_letter(
    message: Any, handle: Callable[[Any], Awaitable[None]],
    dead_letter: Callable[[Any, str, str, str], Awaitable[None]], stage: str,
) -> None:
    """``handle(message)``; a bug dead-letters the message as ``error``, never skips it; a send that
    cannot succeed (a dead letter's included) stops the worker with the message uncommitted."""
    try:
        try:
            await handle(message)
        except SendError:
            raise
        except Exception as exc:
            if kafka_error(exc) is not None:  # Kafka's trouble, not the record's: no dead letter
                raise SendError(f"Kafka failed while handling {where(message)}: {type(exc).__name__}") from exc
            # The exception may quote the payload: its text and traceback only at debug level.
            log.error("failed to process %s: %s", where(message), type(exc).__name__, extra=located(message))
            log.debug("failed to process %s", where(message), exc_info=True, extra=located(message))
            await dead_letter(message, "error", f"{type(exc).__name__}: {exc}", stage)
    except SendError as exc:
        stop_without_commit(exc, message)


def stop_without_commit(exc: SendError, message: Any) -> NoReturn:
    """End the worker at once: ``message`` has no outcome, so its offset must not be committed.

    Neither an exception out of the agent nor ``app.crash`` would do: either closes the agent's
    stream, whose ``finally`` acks the message, and the consumer commits acked offsets as it stops
    (faust-streaming 0.15.3 ``Stream._py_aiter``, ``Consumer.on_stop``; #527). A restarted worker reads
    the record again.
    """
    log.critical("%s; stopping the worker without committing %s", exc, where(message), exc_info=exc.__cause__,
                 extra=located(message))
    logging.shutdown()
    os._exit(70)


@app.timer(settings.dlq_log_interval_s)
async def report_dead_letters() -> None:
    for line in tally.flush():
        log.warning("%s", line, extra=line.fields)


@app.on_before_shutdown.connect
async def report_last_dead_letters(app: Any, **kwargs: Any) -> None:
    for line in tally.flush(force=True):
        log.warning("%s", line, extra=line.fields)
