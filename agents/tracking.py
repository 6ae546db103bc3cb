"""The tracking path: raw events in, per fetched batch; realtime + batch, rejected, or DLQ out.

Faust's per-event stream costs more than the work itself (README, Performance), so the raw topic
is read by a service of the worker that owns its own consumer, in the group ``<app_id>-tracking``.
Per fetch and per partition, ``pipeline.state.batch`` decides every record's outcome against core data
and the partition's state. The records that belong to another partition are found first and sent
there before any event is judged: their second trip is what a re-routed event's latency is made of
(docs/decisions/0009-reroutes-are-sent-before-the-judging.md).
The state changes go to the state changelog, the outputs and dead letters to their topics, as record
batches per (topic, partition), merged with those of the batches processed while the producer was
busy (``pipeline.kafka.outbox``). Once all of them are acknowledged, the changes are written to the
local store and the input offsets become committable (committed every ``ADTRACK_COMMIT_INTERVAL_S``);
meanwhile the next fetches are already being processed (up to ``MAX_IN_FLIGHT`` batches on their way,
landing strictly in order). A send that fails stops the worker with nothing of it committed: the
batch is processed again after the restart.

A core-data barrier in the stream holds its partition until the local core-data tables hold the
versions it lists (``agents.barriers``). A revoked partition is given up only once its batches in
flight are committed; an assigned one is restored from its changelog before its first batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from mode import Service

from config.topics import DLQ_MAX_BYTES
from agents import barriers, deadletters
from agents.flights import Flight
from pipeline.app import app, settings
from pipeline.domain.rules import Limits
from pipeline.kafka import clients
from pipeline.kafka.assignor import Assignor
from pipeline.kafka.batches import OutputRecord, last_offset
from pipeline.kafka.contiguity import Contiguity
from pipeline.kafka.fetching import CAUGHT_UP_WAIT_MS, FetchWait
from pipeline.kafka.outbox import Outbox
from pipeline.runtime import allocator, collector, metrics
from pipeline.runtime.stats import stats
from pipeline.runtime.timeline import timeline
from pipeline.state import batch
from pipeline.state.changelog import restore_states
from pipeline.state.held import held
from pipeline.state.partition import PartitionState
from tables import coredata

log = logging.getLogger(__name__)

LIMITS = Limits(settings.dedupe_window_s * 1000, settings.max_clock_skew_s * 1000)
DESTINATIONS = batch.Destinations(settings.topic_raw, settings.topic_realtime, settings.topic_batch,
                                  settings.topic_rejected)
#: Records per fetch, all partitions together: one batch's state changes fit one changelog record batch.
MAX_RECORDS = 2000
#: Batches processed and on their way at once: the next fetches are processed while the producer waits.
MAX_IN_FLIGHT = 6
PRODUCER_BATCH_BYTES = 1 << 20
#: How often a partition looks for expired entries: often enough to remove more than it accepts.
EXPIRE_EVERY_S = 0.1
#: Turns of the event loop given to the producer once a batch's re-routes are handed to the outbox:
#: aiokafka's sender has written their produce request after four (measured), before the judging, which
#: gives it none.
HAND_OVER_TURNS = 5


class Listener(ConsumerRebalanceListener):
    def __init__(self, tracking: Tracking) -> None:
        self.tracking = tracking

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.tracking.revoke({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.tracking.assign({tp.partition for tp in assigned})


@app.service
class Tracking(Service):
    """Owns the tracking consumer, the output producer and the state of the partitions it holds."""

    def __post_init__(self) -> None:
        self.states = held.states
        self.assignor: Assignor | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self.fetch_wait: FetchWait | None = None
        self.contiguity: Contiguity | None = None
        self.producer: AIOKafkaProducer | None = None
        self.outbox: Outbox | None = None
        self._lock = asyncio.Lock()  # held while a batch is handled, and by the rebalance callbacks
        self._flights: deque[Flight] = deque()  # oldest first
        self._committable: dict[TopicPartition, int] = {}  # processed, written, not committed yet
        self._committed_at = time.monotonic()
        self._commit_in_flight: asyncio.Future[None] | None = None  # one at a time, never awaited on the hot path
        self._stopping = False
        self._partitions: dict[str, int] = {}
        self._context: batch.Context | None = None  # once the partition counts are known
        self._expired_at: dict[int, float] = {}

    # ---- lifecycle ----------------------------------------------------------------------------

    async def on_start(self) -> None:
        collector.tune()
        self.add_future(self._run())

    async def on_stop(self) -> None:
        async with self._lock:
            self._stopping = True
            try:
                await self._land_all()  # the batches in flight are committed before the group is left
                await self._commit()
            except Exception as exc:  # processed again after a restart, like after a crash
                log.warning("tracking stopped with its last batch uncommitted: %s: %s", type(exc).__name__, exc)
        # Not under the lock: stopping the consumer may run the rebalance callbacks, which take it.
        if self.consumer is not None:
            await self.consumer.stop()  # leaves the group: its partitions move at once
        if self.producer is not None:
            await self.producer.stop()
        async with self._lock:
            for state in self.states.values():
                state.close()
            self.states.clear()

    @Service.timer(allocator.RELEASE_EVERY_S)
    async def _release_memory(self) -> None:
        # Freed batch buffers would otherwise stay resident: pipeline/runtime/allocator.py.
        allocator.release()

    async def _run(self) -> None:
        try:
            await self._start_clients()
            caught_up = False
            while not self.should_stop:
                assert self.consumer is not None
                fetched = await self.consumer.getmany(timeout_ms=500, max_records=MAX_RECORDS)
                assert self.fetch_wait is not None
                self.fetch_wait.update(fetched)
                if not caught_up and any(fetched.values()):
                    await self._catch_up()
                    collector.settle()
                    caught_up = True
                async with self._lock:
                    if self._stopping:
                        break
                    await self._launch(fetched)
                    while self._flights and (len(self._flights) > MAX_IN_FLIGHT or self._flights[0].acknowledged()):
                        await self._land_oldest()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._stopping:  # the consumer was stopped under a fetch
                return
            # Nothing of the failed batch is committed: a restarted worker processes it again.
            log.critical("tracking stopped: %s: %s; its uncommitted input is processed again after a restart",
                         type(exc).__name__, exc)
            for state in self.states.values():
                state.discard()
            if self.outbox is not None:
                self.outbox.close()
            self._flights.clear()
            self._committable = {}
            if self._commit_in_flight is not None:
                self._commit_in_flight.cancel()
            await app.crash(exc)

    async def _catch_up(self) -> None:
        """Core data first: events are not judged against core data published before the first of them.

        Called at the first fetch that holds records, not at start: core data published between the
        start and the first event (a worker started before the back-office's first export) counts too.
        """
        try:
            current = await coredata.catch_up(settings.barrier_timeout_s)
        except Exception:  # the broker may be away; tracking starts anyway and barriers still hold
            log.exception("could not check whether core data caught up")
            current = False
        if not current:
            log.error("core data did not catch up within %s s; tracking goes on", settings.barrier_timeout_s)

    async def _start_clients(self) -> None:
        # No linger: what it sends are whole record batches already, waiting would only add latency.
        self.producer = clients.producer(settings, acks="all", linger_ms=0, max_batch_size=PRODUCER_BATCH_BYTES,
                                         max_request_size=DLQ_MAX_BYTES)
        await self.producer.start()
        self.outbox = Outbox(self.producer, DLQ_MAX_BYTES)
        for topic in (settings.topic_raw, settings.topic_realtime, settings.topic_batch, settings.topic_rejected,
                      settings.topic_dlq):
            self._partitions[topic] = len(await self.producer.partitions_for(topic))
        held.partition_count = self._partitions[settings.topic_raw]
        self._context = batch.Context(LIMITS, settings.max_event_bytes, self._partitions[settings.topic_raw],
                                      DESTINATIONS, self._partitions, coredata.lookup)
        self.assignor = Assignor(str(app.conf.canonical_url))
        self.consumer = clients.consumer(
            settings, group_id=settings.tracking_group, enable_auto_commit=False, auto_offset_reset="earliest",
            partition_assignment_strategy=(self.assignor,),
            rebalance_timeout_ms=int(settings.rebalance_timeout_s * 1000),
            session_timeout_ms=int(settings.session_timeout_s * 1000),
            heartbeat_interval_ms=int(min(3.0, settings.session_timeout_s / 3) * 1000),
            max_partition_fetch_bytes=4 << 20, fetch_max_bytes=16 << 20, fetch_max_wait_ms=CAUGHT_UP_WAIT_MS,
        )
        # Made before the first assignment, which tells it where each partition goes on from.
        self.contiguity = Contiguity(self.consumer)
        self.consumer.subscribe([settings.topic_raw], listener=Listener(self))
        await self.consumer.start()
        # Short while caught up (latency), long while behind (full fetches): pipeline.kafka.fetching.
        self.fetch_wait = FetchWait(self.consumer)
        log.info("tracking consumer started in group %s", settings.tracking_group)

    # ---- rebalances ---------------------------------------------------------------------------

    async def revoke(self, partitions: set[int]) -> None:
        async with self._lock:
            await self._land_all()
            await self._commit()
            for p in partitions:
                state = self.states.pop(p, None)
                if state is not None:
                    state.close()

    async def assign(self, partitions: set[int]) -> None:
        async with self._lock:
            if self._stopping:
                return  # leaving the group: nothing to restore
            new = sorted(partitions - set(self.states))
            self.states.update(await restore_states(new, self.state_dir(), settings))
            assert self.contiguity is not None
            await self.contiguity.assigned([TopicPartition(settings.topic_raw, p) for p in partitions])
            if self.assignor is not None:
                held.owners = dict(self.assignor.owners)
            log.info("tracking assigned %s partitions %s", settings.topic_raw, sorted(partitions))

    def state_dir(self) -> Path:
        return Path(app.conf.tabledir) / "tracking-state"

    # ---- batches ------------------------------------------------------------------------------

    async def _launch(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        """Process a fetch and start sending its outputs and state changes, after the batches before it.

        Its re-routes go first, before its events are judged: they make a second trip through the
        broker, and sent with the rest they would miss the next fetch of their partition.
        """
        flight = Flight()
        assert self._context is not None and self.contiguity is not None and self.outbox is not None
        to_judge: list[tuple[PartitionState, list[barriers.Segment]]] = []
        for tp, records in fetched.items():
            state = self.states.get(tp.partition)
            if state is None or not records:
                continue  # revoked since the fetch: its new owner reads these records
            records = self.contiguity.take(tp, records)
            if not records:
                continue  # not where the partition's last batch ended: fetched again from there
            to_judge.append((state, barriers.sort(records, self._context, flight.result)))
            flight.offsets[tp] = records[-1].offset + 1
        outputs = flight.result.outputs
        reroutes = {destination: outputs.pop(destination) for destination in
                    [destination for destination in outputs if destination[0] == settings.topic_raw]}
        if reroutes:
            flight.rerouted = self.outbox.put(reroutes)
            for _ in range(HAND_OVER_TURNS):
                await asyncio.sleep(0)
        for state, segments in to_judge:
            await barriers.judge(segments, state, self._context, flight.now, flight.result)
        for p, state in self.states.items():
            if time.monotonic() - self._expired_at.get(p, 0.0) >= EXPIRE_EVERY_S:
                self._expired_at[p] = time.monotonic()
                state.expire(flight.now)
            sealed = state.seal()
            if sealed is not None:
                flight.sealed[p] = sealed
        for letter in flight.result.dead_letters:
            flight.result.counts[f"dlq:{letter.reason}", None] += 1
        flight.delivery = self.outbox.put(self._parcel(flight))
        # The outbox holds them until they are built into record batches; the flight only needs the counts.
        flight.result.outputs.clear()
        flight.result.dead_letters.clear()
        self._flights.append(flight)

    def _parcel(self, flight: Flight) -> dict[tuple[str, int], list[OutputRecord]]:
        """Everything a batch sends: state changes, outputs and dead letters, per (topic, partition)."""
        parcel: dict[tuple[str, int], list[OutputRecord]] = {
            (settings.tracking_state_topic, p): sealed.records() for p, sealed in flight.sealed.items()}
        parcel.update(flight.result.outputs)
        partitions = self._partitions[settings.topic_dlq]
        for letter in flight.result.dead_letters:
            partition, record = deadletters.batch_dead_letter(letter, flight.now, partitions)
            parcel.setdefault((settings.topic_dlq, partition), []).append(record)
        return parcel

    async def _land_oldest(self) -> None:
        """Wait for the oldest batch in flight to be acknowledged; then store its changes, mark its input done."""
        flight = self._flights[0]
        assert flight.delivery is not None
        if flight.rerouted is not None:
            await flight.rerouted.wait()
        await flight.delivery.wait()
        self._flights.popleft()
        for p, sealed in flight.sealed.items():
            self.states[p].written(sealed, last_offset([flight.delivery.last[settings.tracking_state_topic, p]]))
        self._committable.update(flight.offsets)
        self._commit_due()
        for (outcome, campaign_id), n in flight.result.counts.items():
            stats.count(outcome, campaign_id, n)
        if flight.offsets:  # an empty fetch is no batch
            metrics.count_batch(flight.result.counts.items(), time.monotonic() - flight.fetched_at)
            timeline.add((outcome, n) for (outcome, _campaign_id), n in flight.result.counts.items())

    async def _land_all(self) -> None:
        while self._flights:
            await self._land_oldest()

    def _commit_due(self) -> None:
        """Once a commit interval: start committing the input offsets landed so far, without waiting for it.

        A commit is a round trip to the group coordinator (15–28 ms at 10 400 events/s here); awaited
        on the way, it held the next fetch's events once a second. One commit is on its way at a time,
        so an earlier one never lands after a later one; a failed one stops the worker at its next turn,
        as an awaited one did.
        """
        if self._commit_in_flight is not None:
            if not self._commit_in_flight.done():
                return
            commit, self._commit_in_flight = self._commit_in_flight, None
            commit.result()
        if time.monotonic() - self._committed_at >= settings.commit_interval_s:
            self._committed_at = time.monotonic()
            if self._committable:
                assert self.consumer is not None
                offsets, self._committable = self._committable, {}
                self._commit_in_flight = asyncio.ensure_future(self.consumer.commit(offsets))

    async def _commit(self) -> None:
        """Commit the input offsets of every batch landed so far, after the commit on its way if any."""
        if self._commit_in_flight is not None:
            commit, self._commit_in_flight = self._commit_in_flight, None
            await commit
        self._committed_at = time.monotonic()
        if self._committable:
            assert self.consumer is not None
            offsets, self._committable = self._committable, {}
            await self.consumer.commit(offsets)
