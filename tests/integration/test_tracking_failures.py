"""The batch path when a write cannot succeed: no input offset is committed past an event without its outcome."""

from __future__ import annotations

import orjson
import pytest
from kafka import KafkaAdminClient, KafkaProducer, TopicPartition

from config.settings import Settings
from pipeline.kafka.partitioning import home_partition
from tests import factories
from tests.harness import Kafka, wait_until
from tests.world import World

pytestmark = pytest.mark.integration

#: An enriched record of this size is over the workers' producer limit (2 MiB), so writing it fails for good.
HUGE_URL = "https://dailyledger.example/" + "x" * (3 << 20)


def committed(settings: Settings, partition: int) -> int:
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        tp = TopicPartition(settings.topic_raw, partition)
        found = admin.list_group_offsets({settings.tracking_group: [tp]})[settings.tracking_group]
        return max(found[tp].offset, 0) if tp in found else 0
    finally:
        admin.close()


@pytest.mark.parametrize("path", ["home", "rerouted"])
def test_a_write_that_fails_for_good_stops_tracking_with_its_input_uncommitted(make_worker, kafka: Kafka,
                                                                               settings: Settings, path: str) -> None:
    """Its output, or its re-route to its campaign's partition (sent ahead of the batch's other records)."""
    # Raw events up to 8 MiB pass validation here, so the huge one is decoded and cannot be written on.
    # Every worker of the module is in one tracking group: the test stops its own, so that this one alone
    # holds every partition, and the next test finds none of them.
    worker = make_worker(f"fails-{path}", ADTRACK_MAX_EVENT_BYTES=str(8 << 20)).start().wait_ready()
    world = World(kafka)
    ids = world.campaign()
    before = world.send_event(ids)
    _, record = world.outcome(before["event_id"], timeout=60)
    partition = kafka.read(settings.topic_raw)[-1].partition
    wait_until(lambda: committed(settings, partition) > 0, 30, "the first event committed")

    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, max_request_size=8 << 20, acks="all")
    try:
        huge = orjson.dumps(factories.event(*ids, url=HUGE_URL))
        if path == "home":
            sent = producer.send(settings.topic_raw, huge, key=ids[0].encode()).get(timeout=30)
        else:
            elsewhere = (home_partition(ids[0], settings.partitions) + 1) % settings.partitions
            sent = producer.send(settings.topic_raw, huge, partition=elsewhere).get(timeout=30)
    finally:
        producer.close()
    after = world.send_event(ids)

    wait_until(lambda: b"tracking stopped" in worker.log(), 60, "tracking to stop on the failed write")
    home = home_partition(ids[0], settings.partitions)
    failed = f"{settings.topic_raw}[{home}]" if path == "rerouted" else f"{settings.topic_realtime}["
    assert f"for {failed}".encode() in worker.log(), "the write that failed is not the one the test meant"
    assert committed(settings, sent.partition) <= sent.offset, "an offset was committed past an event without outcome"
    worker.stop()
    assert committed(settings, sent.partition) <= sent.offset

    # Restarted with the default event size limit, the same event is dead-lettered and the stream goes on.
    recovering = make_worker(f"recovers-{path}").start().wait_ready()
    kafka.wait_for(settings.topic_dlq, lambda r: r.headers.get("dlq.partition") == str(sent.partition).encode()
                   and r.headers.get("dlq.offset") == str(sent.offset).encode()
                   and r.headers.get("dlq.reason") == b"oversized", timeout=60)
    assert world.outcome(after["event_id"], timeout=60)[0] == "accepted"
    wait_until(lambda: committed(settings, sent.partition) > sent.offset, 30, "the partition committed past it")
    recovering.stop()
