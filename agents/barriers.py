"""One partition's fetched records through the tracking rules, in segments between core-data barriers.

A barrier (a control record signed with ``ADTRACK_CONTROL_SECRET``) holds its partition until the
local core-data tables hold every version it lists, or ``ADTRACK_BARRIER_TIMEOUT_S`` passes (logged);
the events after it are judged against that core data. A control record we did not sign holds
nothing: it is dead-lettered as ``control``. Core-data lookups are remembered for a segment, and
forgotten at a barrier. Sorting the records (decoding them, finding poison and re-routes) waits for no
barrier: the tracking path sorts a whole fetch, sends its re-routes, then judges it segment by segment.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any

from agents import deadletters
from pipeline.app import settings
from pipeline.domain import control
from pipeline.state import batch
from pipeline.state.partition import PartitionState
from tables import coredata

log = logging.getLogger(__name__)

CONTROL_KEY = control.signing_key(settings.control_secret)


@dataclasses.dataclass(frozen=True, slots=True)
class Segment:
    """Events to judge, in order, and the barrier after them (None: the end of the fetch)."""

    events: list[batch.Decoded]
    barrier: control.Barrier | None = None
    record: Any = None  # the barrier's record


def sort(records: Sequence[Any], context: batch.Context, result: batch.Result) -> list[Segment]:
    """One partition's ``records`` in segments between barriers, decoded (``batch.sort``).

    Poison, forged control records and re-routes are in ``result`` once this returns: none of them
    waits for a barrier.
    """
    segments: list[Segment] = []
    events: list[Any] = []
    for record in records:
        kind = control.classify(record.headers, record.value, CONTROL_KEY)
        if kind is control.EVENT:
            events.append(record)
        elif isinstance(kind, control.Barrier):
            segments.append(Segment(batch.sort(events, context, result), kind, record))
            events = []
        else:  # a barrier we did not write holds nothing
            result.dead_letters.append(batch.DeadLetter(record, "control", kind.reason, "control"))
    segments.append(Segment(batch.sort(events, context, result)))
    return segments


async def judge(segments: Sequence[Segment], state: PartitionState, context: batch.Context, now: int,
                result: batch.Result) -> None:
    """Add the outcomes of one partition's sorted events to ``result``, each barrier waited for in turn.

    Each segment is one ``batch.judge`` call, which looks each core-data id up once.
    """
    for segment in segments:
        batch.judge(segment.events, state, context, now, result)
        if segment.barrier is not None:
            await wait_for_coredata(list(segment.barrier.versions), segment.record)


async def wait_for_coredata(versions: list[control.Version], record: Any) -> None:
    """Hold this partition until the local core-data tables have every listed version."""
    deadline = time.monotonic() + settings.barrier_timeout_s
    pending = list(versions)
    while pending:
        pending = [v for v in pending if (coredata.stored(v[0], v[1]) or {"version": 0})["version"] < v[2]]
        if not pending:
            return
        if time.monotonic() > deadline:
            log.error("core-data barrier at %s timed out waiting for %s; going on", deadletters.where(record), pending)
            return
        await asyncio.sleep(0.005)
