"""The tracking agent: raw event in; realtime + batch, rejected, or DLQ out.

Per message: honour a genuine core-data barrier (a forged one is dead-lettered), decode
(poison -> DLQ), move it to its campaign's home partition if it is not there, evaluate the
business rules, then charge the budget and enrich. Nothing escapes the loop: an exception would
make Faust ack and skip the message (faust-streaming #527); a dead letter that cannot be written
stops the worker before the offset is committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson

from agents import deadletters
from agents.deadletters import handle_or_dead_letter, where
from pipeline import control
from pipeline.app import app, settings
from pipeline.enrich import enrich
from pipeline.errors import PoisonError
from pipeline.events import decode_event
from pipeline.pricing import to_micros
from pipeline.routing import home_partition
from pipeline.rules import Accepted, Limits, Lookups, evaluate
from pipeline.stats import stats
from pipeline.tracing import trace_id
from tables import coredata
from tables.tracking import accepted, spend

log = logging.getLogger(__name__)

RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
raw_topic = app.topic(settings.topic_raw, partitions=settings.partitions, **RAW)
realtime_topic = app.topic(settings.topic_realtime, **RAW)
batch_topic = app.topic(settings.topic_batch, **RAW)
rejected_topic = app.topic(settings.topic_rejected, **RAW)
dlq_topic = app.topic(settings.topic_dlq, **RAW)

LIMITS = Limits(settings.dedupe_window_s * 1000, settings.max_clock_skew_s * 1000)
NO_LIMIT = 1 << 62
CONTROL_KEY = control.signing_key(settings.control_secret)

__all__ = ["home_partition", "track"]  # pipeline/web/pages.py takes home_partition from here


def now_ms() -> int:
    return int(time.time() * 1000)


async def dead_letter(message: Any, reason: str, error: str, stage: str) -> None:
    await deadletters.dead_letter(dlq_topic, message, reason, error, stage)
    stats.count(f"dlq:{reason}")  # once written: a record whose dead letter failed is not counted


async def wait_for_coredata(versions: list[control.Version], message: Any) -> None:
    """Hold this partition until the local core-data tables have every listed version."""
    deadline = time.monotonic() + settings.barrier_timeout_s
    pending = list(versions)
    while pending:
        pending = [v for v in pending if (coredata.stored(v[0], v[1]) or {"version": 0})["version"] < v[2]]
        if not pending:
            return
        if time.monotonic() > deadline:
            log.error("core-data barrier at %s timed out waiting for %s; going on", where(message), pending)
            return
        await asyncio.sleep(0.005)


async def process(message: Any) -> None:
    kind = control.classify(message.headers, message.value, CONTROL_KEY)
    if isinstance(kind, control.Barrier):
        await wait_for_coredata(list(kind.versions), message)
        return
    if isinstance(kind, control.Forged):
        await dead_letter(message, "control", kind.reason, "control")
        return

    try:
        event = decode_event(message.value, settings.max_event_bytes)
    except PoisonError as exc:
        await dead_letter(message, exc.reason, str(exc), "decode")
        return

    campaign_id: str = event["campaign_id"]
    home = home_partition(campaign_id, app.consumer.topic_partitions(message.topic) or settings.partitions)
    if message.partition != home:
        stats.count("rerouted")
        await raw_topic.send(
            key=campaign_id.encode(), value=message.value, headers=message.headers, partition=home
        )
        return

    event_id: str = event["event_id"]
    prior = accepted.get(event_id)
    # The very same message seen again after a crash is a replay, not a duplicate.
    replay = prior is not None and prior["p"] == message.partition and prior["o"] == message.offset
    charged = spend.get(campaign_id) or {"spent": 0, "o": -1, "c": 0}
    # A crash between charging and recording the event leaves the charge in place: count it once.
    spent_before = charged["spent"] - charged["c"] if charged["o"] == message.offset else charged["spent"]

    def remaining_micros(cid: str) -> int | None:
        if replay:
            return NO_LIMIT  # charged before the crash; never charge twice
        budget = coredata.lookup("budget", cid)
        return None if budget is None else to_micros(budget["total"]) - spent_before

    lookups = Lookups(
        seen=lambda _: prior is not None and not replay,
        campaign=lambda i: coredata.lookup("campaign", i),
        publisher=lambda i: coredata.lookup("publisher", i),
        slot=lambda i: coredata.lookup("slot", i),
        remaining_micros=remaining_micros,
    )
    now = now_ms()
    verdict = evaluate(event, now, LIMITS, lookups)
    key = campaign_id.encode()
    if not isinstance(verdict, Accepted):
        stats.count(f"rejected:{verdict.reason.value}", campaign_id)
        rejection = {"reason": verdict.reason.value, "detail": verdict.detail, "event": event, "rejected_at": now}
        await rejected_topic.send(key=key, value=orjson.dumps(rejection), headers=message.headers)
        return

    if replay:
        remaining = prior["r"]
    else:
        remaining = remaining_micros(campaign_id)
        if remaining is not None:
            remaining -= verdict.cost_micros
        if verdict.cost_micros and message.offset > charged["o"]:
            spend[campaign_id] = {
                "spent": spent_before + verdict.cost_micros, "o": message.offset, "c": verdict.cost_micros
            }
        accepted[event_id] = {"p": message.partition, "o": message.offset, "r": remaining, "ts": event["ts"]}
    stats.count("accepted", campaign_id)
    record = orjson.dumps(enrich(event, verdict, remaining, now, trace_id(message.headers)))
    await realtime_topic.send(key=key, value=record, headers=message.headers)
    await batch_topic.send(key=key, value=record, headers=message.headers)


@app.agent(raw_topic)
async def track(stream: Any) -> None:
    caught_up = False
    async for event in stream.events():
        message = event.message
        if not caught_up:
            # Here, not before the loop: by the first event recovery is over and every changelog exists,
            # so looking at their end offsets cannot make the broker auto-create one.
            caught_up = True
            try:
                current = await coredata.catch_up(settings.barrier_timeout_s)
            except Exception:  # the broker may be away; an exception here would skip this event
                log.exception("could not check whether core data caught up")
                current = False
            if not current:
                log.error("core data did not catch up within %s s; tracking goes on", settings.barrier_timeout_s)
        await handle_or_dead_letter(message, process, dead_letter, "process")
