"""Sending the records of batches that follow each other, merged while the producer is busy.

aiokafka sends one produce request per broker at a time, and takes one record batch per partition
into it. Sent batch by batch, each processed batch would wait for the requests of all batches
before it: latency grows with the batches in flight. Here the batches handed over while a send is
under way are merged, per (topic, partition) in the order they came, and sent together as soon as
it is done: one record batch per partition per produce request, however many batches were
processed meanwhile. A list of records a parcel hands to several destinations (the real-time and
the batch copies) is built into record batches once.

Each batch gets a ``Delivery``: ``handed`` resolves once all its records are with the producer,
``acks`` then holds the futures of the record batches that carry them, and ``last`` the ack of its
last record per (topic, partition) (the state layer keeps the changelog offset it reached). A send
that fails fails its delivery and every later one: nothing after a failed batch is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaProducer

from pipeline.kafka.batches import Ack, Destination, OutputRecord, send_records

Parcel = Mapping[Destination, Sequence[OutputRecord]]


class Delivery:
    def __init__(self, parcel: Parcel) -> None:
        self.parcel = parcel
        self.handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.acks: list[Ack] = []
        self.last: dict[Destination, Ack] = {}

    def acknowledged(self) -> bool:
        return self.handed.done() and all(future.done() for future, _ in self.acks)

    async def wait(self) -> None:
        """Until the broker acknowledged every record (raises what the send or the broker raised)."""
        await self.handed
        await asyncio.gather(*(future for future, _ in self.acks))


def ack_of(acks: Sequence[Ack], index: int) -> Ack:
    """The ack of the record at ``index`` among the records that ``acks`` carry, in order.

    ``(future, n)``: the record is the n-th of the record batch of ``future``, so the batch's base
    offset plus n - 1 is its offset (``batches.last_offset``).
    """
    start = 0
    for future, count in acks:
        if index < start + count:
            return future, index - start + 1
        start += count
    raise IndexError(f"record {index} of {start}")


class Outbox:
    def __init__(self, producer: AIOKafkaProducer, max_record_bytes: int) -> None:
        self.producer = producer
        self.max_record_bytes = max_record_bytes
        self._queue: list[Delivery] = []
        self._pump: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    def put(self, parcel: Parcel) -> Delivery:
        """Send ``parcel``'s records after those of every parcel put before it."""
        delivery = Delivery(parcel)
        self._queue.append(delivery)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.ensure_future(self._send_queued())
        return delivery

    def close(self) -> None:
        """Stop sending: what is queued is failed, not sent."""
        self._failure = self._failure or RuntimeError("the outbox was closed")
        if self._pump is not None:
            self._pump.cancel()
        for delivery in self._queue:
            _fail(delivery, self._failure)
        self._queue = []

    async def _send_queued(self) -> None:
        while self._queue:
            deliveries, self._queue = self._queue, []
            if self._failure is not None:
                for delivery in deliveries:
                    _fail(delivery, self._failure)
                continue
            try:
                await self._send(deliveries)
            except asyncio.CancelledError:
                for delivery in deliveries:
                    _fail(delivery, RuntimeError("the outbox was closed"))
                raise
            except Exception as exc:
                self._failure = exc
                for delivery in deliveries:
                    _fail(delivery, exc)
            else:
                for delivery in deliveries:
                    delivery.handed.set_result(None)
            finally:
                # Built into record batches (or failed): the producer holds their bytes until acknowledged,
                # and the records are not held twice meanwhile.
                for delivery in deliveries:
                    delivery.parcel = {}

    async def _send(self, deliveries: list[Delivery]) -> None:
        handed: dict[Destination, list[tuple[Delivery, Sequence[OutputRecord]]]] = {}
        for delivery in deliveries:
            for destination, records in delivery.parcel.items():
                if records:
                    handed.setdefault(destination, []).append((delivery, records))
        # Destinations that were handed the very same list by every parcel get the same records: they
        # are merged and built into record batches once (``send_records``). The parcels hold those
        # lists until sent, so their ids stay theirs.
        copies: dict[tuple[int, ...], list[Destination]] = {}
        for destination, parts in handed.items():
            copies.setdefault(tuple(id(records) for _, records in parts), []).append(destination)
        for destinations in copies.values():
            merged: list[OutputRecord] = []
            ends: list[tuple[Delivery, int]] = []  # each delivery's last record among them
            for delivery, records in handed[destinations[0]]:
                merged.extend(records)
                ends.append((delivery, len(merged) - 1))
            sent = await send_records(self.producer, destinations, merged, self.max_record_bytes)
            for destination, acks in zip(destinations, sent):
                for delivery, end in ends:
                    delivery.acks.extend(acks)
                    delivery.last[destination] = ack_of(acks, end)


def _fail(delivery: Delivery, exc: BaseException) -> None:
    if not delivery.handed.done():
        delivery.handed.set_exception(exc)
        delivery.handed.exception()  # retrieved: the batch path reports it once, not each delivery
