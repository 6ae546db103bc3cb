"""Scenario 8: a crash between "event marked as seen" and "input offset committed" loses nothing.

The window: the tracking path sends a batch's dedupe entries to the state changelog together with its
outputs, keeps them locally once acknowledged, and commits the batch's input offsets only later (every
``ADTRACK_COMMIT_INTERVAL_S``). A kill -9 inside that window leaves the events marked as seen while Kafka
still offers them again, so a naive "seen before? -> duplicate" check would reject the replay and, if its
outputs had not been written, the event would be lost.

Why adtrack passes: the state layer (``pipeline/state/``) stores with each accepted event_id *where* it
was accepted, its partition and offset (and the budget left after it). ``pipeline/state/batch.py`` calls an
event whose stored partition+offset are its own a replay of the very same message, not a duplicate: it
is accepted again with the stored ``budget_remaining`` and is not charged again (a campaign's spend keeps
the offset of its last charge). Only another message with the same event_id is a duplicate. So a replay
costs at most a second copy of its outputs, never the event.

Two variants, one test each (they share the module's broker and consumer group, one after the other):
1. kill -9 the worker as soon as its first outputs appear, three times over one stream, restarting with
   the same data dir; the test checks that the crashes really fell inside the window (events with outputs
   whose offsets were not committed).
2. the whole window, deterministically: a worker that never commits (its commit interval set to an hour)
   processes a whole stream and is killed; restarted with its data dir, it finds every event of the stream
   uncommitted and already in its dedupe table, and must accept each one again.
"""

from __future__ import annotations

import asyncio
from contextlib import closing

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from config.settings import Settings
from pipeline.kafka.offsets import topic_end_offsets
from pipeline.sim import oracle
from tests.harness import Kafka, wait_until
from tests.reliability.stream import Stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_kill_9_right_after_the_first_outputs_never_turns_a_replay_into_a_duplicate(
    make_worker, kafka: Kafka, settings: Settings, report
) -> None:
    stream = Stream(settings, count=1500, rate=150, seed=81, invalid_ratio=0)
    stream.load_core_data()
    worker = make_worker("window-0").start().wait_ready()
    wait_committed(settings, settings.topic_coredata_updates)  # restarts need not re-apply the core data
    stream.start()
    in_window: list[int] = []
    realtime = [TopicPartition(settings.topic_realtime, p) for p in range(settings.partitions)]
    with closing(KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)) as probe:
        for n in range(1, 4):
            seen = sum(probe.end_offsets(realtime).values())
            wait_until(lambda: sum(probe.end_offsets(realtime).values()) > seen, 60,
                       f"outputs of worker window-{n - 1}", interval=0.01)
            worker.kill()
            in_window.append(processed_not_committed(kafka, settings, stream.run))
            worker = make_worker(f"window-{n}", datadir=worker.datadir).start().wait_ready()
    stream.join()
    print(f"\nevents with outputs but an uncommitted offset at each kill: {in_window}")
    assert sum(in_window) > 0, "no kill fell inside the dedupe window"
    report(stream)
    assert rejections(kafka, settings, stream.run) == 0, "a replay was rejected (as a duplicate)"
    worker.stop()


def test_a_worker_killed_before_it_ever_committed_accepts_every_replay_again_from_its_data_dir(
    make_worker, kafka: Kafka, settings: Settings, report
) -> None:
    stream = Stream(settings, count=1000, rate=250, seed=82, invalid_ratio=0)
    stream.load_core_data()
    worker = make_worker("behind-0").start().wait_ready()
    wait_committed(settings, settings.topic_coredata_updates)
    worker.stop()
    raw = [TopicPartition(settings.topic_raw, p) for p in range(settings.partitions)]
    begin = committed(settings, settings.tracking_group, raw)

    # This worker never commits (its commit interval is an hour): killed, it leaves its offsets where the
    # stream began and its data dir holding every event of the stream as accepted.
    worker = make_worker("behind-1", datadir=worker.datadir, ADTRACK_COMMIT_INTERVAL_S="3600").start().wait_ready()
    stream.start()
    stream.join()
    wait_until(lambda: oracle.classify(stream.run, stream.sent, oracle.read_outputs(settings)).total.missing == 0,
               120, "an outcome for every event", interval=1)
    worker.kill()
    assert committed(settings, settings.tracking_group, raw) == begin, "the worker committed: the replay would not cover the stream"

    make_worker("behind-2", datadir=worker.datadir).start().wait_ready()
    report(stream, duplicates=stream.count)  # every event accepted a second time, none rejected
    assert rejections(kafka, settings, stream.run) == 0, "a replay was rejected (as a duplicate)"


def end_offsets(settings: Settings, topic: str) -> dict[TopicPartition, int]:
    # The embedded broker under-reports end offsets: confirmed with a fetch, as the workers do.
    return {TopicPartition(tp.topic, tp.partition): end
            for tp, end in asyncio.run(topic_end_offsets(settings, topic)).items()}


def committed(settings: Settings, group: str, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        found = admin.list_group_offsets({group: tps})[group]
        return {tp: max(found[tp].offset, 0) if tp in found else 0 for tp in tps}
    finally:
        admin.close()


def wait_committed(settings: Settings, topic: str) -> None:
    """Wait until the workers' Faust group (core data) has committed every record of ``topic``."""
    def done() -> bool:
        end = end_offsets(settings, topic)
        return all(committed(settings, settings.app_id, list(end))[tp] >= offset for tp, offset in end.items())

    wait_until(done, 60, f"{topic} committed", interval=0.2)


def processed_not_committed(kafka: Kafka, settings: Settings, run: str) -> int:
    """Events of ``run`` with outputs whose input offset the group has not committed: they will be replayed."""
    done = {r.headers[oracle.HEADER] for r in kafka.read(settings.topic_realtime) if oracle.HEADER in r.headers}
    raw = [TopicPartition(settings.topic_raw, p) for p in range(settings.partitions)]
    offsets = committed(settings, settings.tracking_group, raw)
    return sum(
        1 for r in kafka.read(settings.topic_raw)
        if r.headers.get(oracle.HEADER, b"").startswith(f"{run}:".encode()) and r.headers[oracle.HEADER] in done
        and r.offset >= offsets[TopicPartition(r.topic, r.partition)]
    )


def rejections(kafka: Kafka, settings: Settings, run: str) -> int:
    tag = f"{run}:".encode()
    return sum(r.headers.get(oracle.HEADER, b"").startswith(tag) for r in kafka.read(settings.topic_rejected))
