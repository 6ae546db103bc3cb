"""The core-data agent: versioned updates in; tables and change notifications out.

Order per applied update: write the table (its changelog replicates it to every worker), write
a barrier to every partition of ``tracking.raw``, and only then publish the notification. So once
the notification is on ``coredata.changes``, every event produced after it meets the new data.
Every send waits for its acknowledgement, retried while that can help; one that cannot succeed
stops the worker with the update uncommitted (``agents.deadletters``).
"""

from __future__ import annotations

import logging
import time
from functools import partial
from typing import Any

import orjson

from agents import deadletters
from agents.deadletters import handle_or_dead_letter, located
from pipeline.app import app, settings
from pipeline.domain import control
from pipeline.domain.coredata import apply, decode_update, notification
from pipeline.domain.errors import PoisonError
from pipeline.kafka.sending import send_all
from pipeline.runtime.metrics import coredata_updates as counts
from tables import coredata

log = logging.getLogger(__name__)

RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
updates_topic = app.topic(settings.topic_coredata_updates, partitions=1, **RAW)
changes_topic = app.topic(settings.topic_coredata_changes, **RAW)
dlq_topic = app.topic(settings.topic_coredata_dlq, **RAW)
raw_topic = app.topic(settings.topic_raw, **RAW)
CONTROL_KEY = control.signing_key(settings.control_secret)


async def publish_barrier(versions: list[control.Version], extra: dict[str, Any] | None = None) -> None:
    partitions = app.consumer.topic_partitions(settings.topic_raw) or settings.partitions
    value, headers = control.barrier_record(versions, CONTROL_KEY)
    sends = [partial(raw_topic.send, value=value, headers=headers, partition=p) for p in range(partitions)]
    await send_all(sends, f"a barrier to {settings.topic_raw}", settings.send_timeout_s, extra)


async def dead_letter(message: Any, reason: str, error: str, stage: str = "coredata") -> None:
    await deadletters.dead_letter(dlq_topic, message, reason, error, stage)
    counts["dead_lettered"] += 1


@app.task
async def warn_of_the_development_secret() -> None:
    if not settings.control_secret:
        log.warning("ADTRACK_CONTROL_SECRET is not set: core-data barriers are signed with the development "
                    "secret, which any producer of %s can use to hold its partitions; set it in production",
                    settings.topic_raw)


async def handle(message: Any) -> None:
    try:
        update = decode_update(message.value)
    except PoisonError as exc:
        await dead_letter(message, exc.reason, str(exc))
        return

    current = coredata.stored(update.entity, update.id)
    source = [message.partition, message.offset]
    if current is not None and current.get("source") == source:
        counts["republished"] += 1  # we applied this very message before a crash: publish again
        new = current
    else:
        new = apply(current, update, int(time.time() * 1000))
        if new is None:
            counts["ignored"] += 1
            log.info("ignored %s v%s: stored version is %s", update.key, update.version, current["version"],
                     extra=located(message))
            return
        new["source"] = source
        coredata.store(update.entity, update.id, new)
        counts["applied"] += 1
    await publish_barrier([(update.entity, update.id, update.version)], located(message))
    note = notification(update.entity, update.id, new)
    await send_all([partial(changes_topic.send, key=update.key.encode(), value=orjson.dumps(note))],
                   f"the notification of {update.key} v{update.version}", settings.send_timeout_s, located(message))


@app.agent(updates_topic)
async def apply_updates(stream: Any) -> None:
    async for event in stream.events():
        # Never let an exception reach Faust: it would ack and skip the update silently. Kafka's failures
        # stop the worker with the update uncommitted; only our own dead-letter it as ``error``.
        await handle_or_dead_letter(event.message, handle, dead_letter, "coredata")
