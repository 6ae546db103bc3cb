"""Faust's Kafka transport, with end offsets that can be trusted and producer metadata that never shrinks.

The embedded broker answers ListOffsets(latest) with the base offset of the last record batch
plus one, not the offset after the last record. Faust recovers a table by reading its changelog
up to that end offset, so a changelog whose last batch held several records came back short
(seen as a budget "refunded" after a wiped data dir). Its end offsets are confirmed by a fetch
(``pipeline.kafka.offsets``): one fetch per changelog partition at recovery, nothing on the hot path.
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
    """The app's producer, tracking the metadata of every topic it knows of.

    A new aiokafka producer tracks no topic by name, meaning all. Its first send to a topic
    created after it started (a subscription's topic, say) makes it track that topic alone: the
    next metadata answer holds only that topic, batches queued for every other topic lose their
    leader, and a flush or an awaited send waits for ever. Tracking the known topics by name from
    the start makes later topics add to the set instead of replacing it.
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
