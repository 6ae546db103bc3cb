"""Faust's Kafka transport, with end offsets that can be trusted and producer metadata that never shrinks.

The consumer's end offsets, which Faust reads a changelog up to when it recovers a table, are
confirmed by a fetch (``pipeline.kafka.offsets``): one fetch per changelog partition at recovery,
nothing on the hot path (docs/decisions/0001-confirmed-end-offsets.md). The producer tracks every
topic it knows of by name from its start (docs/decisions/0002-producer-tracks-known-topics.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from faust.transport.drivers import aiokafka as driver
from faust.types import TP

from config.settings import get_settings
from pipeline.kafka.offsets import confirmed_end_offsets


class ConsumerThread(driver.AIOKafkaConsumerThread):
    async def _highwaters(self, partitions: list[TP]) -> Mapping[TP, int]:
        reported = await super()._highwaters(partitions)
        if self.consumer.in_transaction:
            return reported
        # The app is built from these settings (pipeline/app.py), so the probe reaches the same brokers.
        return await confirmed_end_offsets(reported, get_settings())


class Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Producer(driver.Producer):
    """The app's producer, tracking the metadata of every topic it knows of by name.

    A topic created later adds to the tracked set instead of replacing it, so no queued batch loses its
    leader (docs/decisions/0002-producer-tracks-known-topics.md).
    """

    async def on_start(self) -> None:
        await super().on_start()
        client = self._ensure_producer().client
        known = client.cluster.topics()
        if known:  # adtrack creates its topics before the producer starts, so there are some
            await client.set_topics(known)


class Transport(driver.Transport):
    Consumer = Consumer
    Producer = Producer
