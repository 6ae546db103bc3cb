"""Faust's Kafka transport, with end offsets that can be trusted and producer metadata that never shrinks.

The embedded broker answers ListOffsets(latest) with the base offset of the last record batch
plus one, not the offset after the last record. Faust recovers a table by reading its changelog
up to that end offset, so a changelog whose last batch held several records came back short
(seen as a budget "refunded" after a wiped data dir). Fetch responses carry the correct high
watermark, so end offsets are confirmed by fetching the last reported record. On Apache Kafka
the two agree and this costs one fetch per changelog partition at recovery, nothing on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiokafka
from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as driver
from faust.types import TP


async def confirmed_end_offsets(
    reported: Mapping[Any, int], client_options: Mapping[str, Any], timeout_ms: int = 5000
) -> dict[Any, int]:
    """The end offsets of ``reported`` partitions, taken from a fetch's high watermark."""
    result = dict(reported)
    probe = [tp for tp, end in reported.items() if end is not None and end > 0]
    if not probe:
        return result
    consumer = aiokafka.AIOKafkaConsumer(enable_auto_commit=False, **client_options)
    await consumer.start()
    try:
        tps = [TopicPartition(tp.topic, tp.partition) for tp in probe]
        consumer.assign(tps)
        for tp, original in zip(tps, probe):
            consumer.seek(tp, reported[original] - 1)
        pending = set(tps)
        for _ in range(10):
            await consumer.getmany(*pending, timeout_ms=timeout_ms // 10, max_records=1)
            for tp in list(pending):
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    pending.discard(tp)
            if not pending:
                break
        for tp, original in zip(tps, probe):
            highwater = consumer.highwater(tp)
            if highwater is not None:
                result[original] = max(reported[original], highwater)
    finally:
        await consumer.stop()
    return result


class ConsumerThread(driver.AIOKafkaConsumerThread):
    async def _highwaters(self, partitions: list[TP]) -> Mapping[TP, int]:
        reported = await super()._highwaters(partitions)
        if self.consumer.in_transaction:
            return reported
        main = self._ensure_consumer()
        options = {"bootstrap_servers": main._client._bootstrap_servers}
        options.update(_security_options(main))
        return await confirmed_end_offsets(reported, options)


def _security_options(consumer: aiokafka.AIOKafkaConsumer) -> dict[str, Any]:
    client = consumer._client
    names = ("security_protocol", "ssl_context", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password")
    return {name: getattr(client, f"_{name}") for name in names if getattr(client, f"_{name}", None) is not None}


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
