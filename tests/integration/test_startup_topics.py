"""Producers first, worker second: a worker refuses topics that do not fit, with one error that says how to fix them.

This module's broker starts empty and the ``kafka`` fixture (which creates every topic) is used only after the
producers came first, so the broker auto-creates ``coredata.updates`` and ``tracking.raw`` with its default
partition count (4 on the embedded broker).
"""

from __future__ import annotations

import asyncio
import dataclasses

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from kafka import KafkaProducer

from config.settings import Settings
from pipeline.domain.errors import TopicError
from pipeline.kafka.admin import ensure_topics
from tests import factories
from tests.harness import Kafka, unique, wait_until

pytestmark = pytest.mark.integration


def topic_names(settings: Settings) -> set[str]:
    async def names() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
        await admin.start()
        try:
            return set(await admin.list_topics())
        finally:
            await admin.close()

    return asyncio.run(names())


def delete_topic(settings: Settings, topic: str) -> None:
    async def delete() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
        await admin.start()
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()

    asyncio.run(delete())
    wait_until(lambda: topic not in topic_names(settings), 30, f"{topic} deleted")


def publish(settings: Settings, topic: str, records: list[tuple[str, dict]]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    for key, value in records:
        producer.send(topic, orjson.dumps(value), key=key.encode())
    producer.flush()
    producer.close()


def test_a_replication_factor_the_cluster_cannot_hold_creates_nothing_and_says_so(settings: Settings) -> None:
    topic = unique("replicated")
    wanted = dataclasses.replace(settings, replication_factor=3, topic_rejected=topic)
    with pytest.raises(TopicError, match=f"cannot create .*{topic}.*ADTRACK_REPLICATION_FACTOR=3 .* 1 broker"):
        asyncio.run(ensure_topics(wanted))
    assert topic not in topic_names(settings)


def test_a_worker_that_cannot_create_its_topics_exits_with_the_error(make_worker, settings: Settings) -> None:
    topic = unique("replicated")
    worker = make_worker("replicated", ADTRACK_REPLICATION_FACTOR="3", ADTRACK_TOPIC_REJECTED=topic).start()
    assert worker.process is not None
    wait_until(lambda: worker.process.poll() is not None, 60, "the worker to exit")
    assert worker.process.returncode != 0
    assert b"ADTRACK_REPLICATION_FACTOR=3" in worker.log()
    worker.stop()


def test_producers_first_the_worker_refuses_then_after_the_fix_applies_every_update_and_accepts_every_event(
    make_worker, settings: Settings
) -> None:
    cid, pid, sid = unique("cmp"), unique("pub"), unique("slot")
    updates = [
        (f"publisher:{pid}", factories.update("publisher", pid, 1, factories.publisher_data())),
        (f"slot:{sid}", factories.update("slot", sid, 1, factories.slot_data(pid))),
        (f"campaign:{cid}", factories.update("campaign", cid, 1, factories.campaign_data())),
    ]
    events = [factories.event(cid, pid, sid) for _ in range(20)]
    publish(settings, settings.topic_coredata_updates, updates)
    publish(settings, settings.topic_raw, [(cid, ev) for ev in events])

    refused = make_worker("refused").start()
    assert refused.process is not None
    wait_until(lambda: refused.process.poll() is not None, 60, "the worker to refuse the auto-created topics")
    assert refused.process.returncode != 0
    log = refused.log()
    assert b"TopicError" in log
    assert b"'coredata.updates' has 4 partition(s), adtrack needs 1 partition(s)" in log
    assert b"--delete --topic coredata.updates" in log
    assert b"'tracking.raw'" not in log  # 4 partitions, as ADTRACK_PARTITIONS asks: it fits
    refused.stop()

    # The fix the error names: recreate coredata.updates (by a worker), and publish the core data again.
    delete_topic(settings, settings.topic_coredata_updates)
    asyncio.run(ensure_topics(settings, check=True))
    publish(settings, settings.topic_coredata_updates, updates)
    make_worker("fixed").start().wait_ready()
    kafka = Kafka(settings)
    try:
        changes = kafka.wait_for(settings.topic_coredata_changes, lambda r: r.key.decode().endswith(
            (pid, sid, cid)), count=len(updates), timeout=60)
        assert len(changes) == len(updates)
        accepted = kafka.wait_for(settings.topic_realtime, lambda r: r.key == cid.encode(), count=len(events),
                                  timeout=60)
        assert sorted(r.json()["event_id"] for r in accepted) == sorted(ev["event_id"] for ev in events)
        assert kafka.read(settings.topic_coredata_dlq) == []
        assert [r for r in kafka.read(settings.topic_rejected) if r.json()["event"]["campaign_id"] == cid] == []
    finally:
        kafka.close()
