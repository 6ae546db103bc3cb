"""Sends of the core-data agent while the broker is frozen (SIGSTOP) mid-burst.

A short freeze only delays them: every update is applied after it and nothing is dead-lettered as
``error``. A freeze past ``ADTRACK_SEND_TIMEOUT_S`` is a send that cannot succeed: the worker stops
with the update it was sending uncommitted, saying so in a JSON log line that names the update's
topic, partition and offset; a restarted worker applies it.
"""

from __future__ import annotations

import orjson
import pytest
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition

from config.settings import Settings
from pipeline.kafka.broker import EmbeddedBroker
from tests import factories
from tests.harness import Kafka, unique, wait_until
from tests.reliability.test_broker_stall import ride_out

pytestmark = pytest.mark.integration

#: Updates in a burst: enough that the agent is still sending when the broker freezes at its first notification.
BURST = 300
FREEZE_S = 5.0


def publish_burst(kafka: Kafka) -> list[str]:
    """BURST publisher updates, sent together; their keys."""
    keys = [f"publisher:{unique('pub')}" for _ in range(BURST)]
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all", linger_ms=5)
    try:
        for key in keys:
            value = factories.update("publisher", key.split(":", 1)[1], 1, factories.publisher_data())
            producer.send(kafka.settings.topic_coredata_updates, orjson.dumps(value), key=key.encode())
        producer.flush(timeout=30)
    finally:
        producer.close()
    return keys


def notified(kafka: Kafka, keys: list[str]) -> set[str]:
    wanted = set(keys)
    return {r.key.decode() for r in kafka.read(kafka.settings.topic_coredata_changes) if r.key.decode() in wanted}


def freeze_mid_burst(broker: EmbeddedBroker, kafka: Kafka, keys: list[str]) -> int:
    """Freeze the broker as soon as the first update of the burst is notified; how many were by then."""
    before = wait_until(lambda: len(notified(kafka, keys)), 60, "the first notification of the burst", interval=0.02)
    broker.pause()
    assert before < len(keys), "the burst was over before the freeze: make it larger"
    return before


def errors_dead_lettered(kafka: Kafka) -> list:
    return [r for r in kafka.read(kafka.settings.topic_coredata_dlq) if r.headers.get("dlq.reason") == b"error"]


def committed(settings: Settings, group: str, topic: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        tp = TopicPartition(topic, 0)
        found = admin.list_group_offsets({group: [tp]})[group]
        return max(found[tp].offset, 0) if tp in found else 0
    finally:
        admin.close()


def test_updates_sent_while_the_broker_is_frozen_are_applied_after_it(broker, make_worker, kafka: Kafka) -> None:
    worker = make_worker("frozen").start().wait_ready()
    late_key = f"publisher:{unique('pub')}"
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
    try:
        producer.partitions_for(kafka.settings.topic_coredata_updates)  # connected before the freeze
        keys = publish_burst(kafka)
        freeze_mid_burst(broker, kafka, keys)
        late = producer.send(kafka.settings.topic_coredata_updates, key=late_key.encode(), value=orjson.dumps(
            factories.update("publisher", late_key.split(":", 1)[1], 1, factories.publisher_data())))
        try:
            ride_out(worker, FREEZE_S)
            assert not late.is_done, "the broker acknowledged while frozen: the freeze did not happen"
        finally:
            broker.resume()
        late.get(timeout=30)
    finally:
        producer.close()

    wait_until(lambda: notified(kafka, [*keys, late_key]) == {*keys, late_key}, 90, "every update notified")
    assert errors_dead_lettered(kafka) == []
    assert worker.process is not None and worker.process.poll() is None


def test_a_send_that_cannot_succeed_stops_the_worker_and_a_restarted_one_applies_the_update(
    broker, make_worker, kafka: Kafka, settings: Settings,
) -> None:
    group = unique("gives-up")
    worker = make_worker("gives-up", ADTRACK_APP_ID=group, ADTRACK_SEND_TIMEOUT_S="2",
                         ADTRACK_LOG_FORMAT="json").start().wait_ready()
    keys = publish_burst(kafka)
    freeze_mid_burst(broker, kafka, keys)
    try:
        wait_until(lambda: worker.process.poll() is not None, 30, "the worker to stop on its send")
    finally:
        broker.resume()
    assert worker.process.returncode == 70
    # The last line says so, naming the update it stopped on in the fields of the JSON line.
    [stopped] = [line for line in map(orjson.loads, worker.log().splitlines()) if line["level"] == "CRITICAL"]
    assert "stopping the worker without committing" in stopped["message"]
    topic, offset = stopped["topic"], stopped["offset"]
    assert (topic, stopped["partition"]) == (settings.topic_coredata_updates, 0)
    assert stopped["message"].endswith(f"{topic}[0]@{offset}")
    assert committed(settings, group, topic) <= offset, "committed past an update whose notification was not sent"

    make_worker("gives-up-restarted", ADTRACK_APP_ID=group).start().wait_ready()
    wait_until(lambda: notified(kafka, keys) == set(keys), 90, "every update of the burst notified")
    wait_until(lambda: committed(settings, group, topic) > offset, 30, "the restarted worker to commit past it")
    assert errors_dead_lettered(kafka) == []
