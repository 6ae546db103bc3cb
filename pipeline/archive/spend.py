"""The spend the workers hold, per campaign: the last ``spend:<campaign_id>`` row of the tracking state changelog.

The changelog is what every worker restores its spend from, so it is the spend itself, read with no
worker running. Ends are confirmed by a fetch (the embedded broker reports a short one).
"""

from __future__ import annotations

import orjson
from aiokafka import TopicPartition

from config.settings import Settings
from pipeline.kafka import clients
from pipeline.kafka.offsets import confirm
from pipeline.state.records import SPEND

FETCH_BYTES = 16 << 20


async def held_spend(settings: Settings) -> dict[str, int]:
    """Micros spent per campaign, as the workers hold it."""
    topic = settings.tracking_state_topic
    consumer = clients.consumer(settings, enable_auto_commit=False, max_partition_fetch_bytes=FETCH_BYTES,
                                fetch_max_bytes=FETCH_BYTES)
    await consumer.start()
    spend: dict[str, int] = {}
    try:
        await consumer.topics()  # fetches the metadata partitions_for_topic answers from
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return spend
        consumer.assign(tps)
        ends = await confirm(consumer, await consumer.end_offsets(tps))
        pending = [tp for tp in tps if ends[tp] > 0]
        if pending:
            await consumer.seek_to_beginning(*pending)
        while pending:
            fetched = await consumer.getmany(*pending, timeout_ms=1000, max_records=50_000)
            for records in fetched.values():
                for record in records:
                    if record.key is not None and record.key.startswith(SPEND):
                        campaign_id = record.key[len(SPEND):].decode()
                        if record.value is None:
                            spend.pop(campaign_id, None)
                        else:
                            spend[campaign_id] = orjson.loads(record.value)["spent_micros"]
            pending = [tp for tp in pending if await consumer.position(tp) < ends[tp]]
    finally:
        await consumer.stop()
    return spend
