"""Hostile input on tracking.raw, end to end: every record gets an outcome, nothing holds a partition
that we did not sign, and a storm of poison is a handful of log lines.

Black-box: records go in through Kafka and outcomes are read from the output topics and the worker's
stats page, so these tests guard any implementation of the tracking path.
"""

from __future__ import annotations

import hashlib
import re

import orjson
import pytest

from pipeline.domain import control
from pipeline.kafka.partitioning import home_partition
from tests import factories
from tests.harness import Kafka, ConsumedRecord, Worker, call, unique, wait_until
from tests.world import World

pytestmark = pytest.mark.integration

SECRET = unique("control-secret")
BARRIER_TIMEOUT_S = 120  # a stalled partition would wait this long; every wait below is far shorter
SEQ = "hostile.seq"
TWO_MB = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def hostile(make_worker, kafka: Kafka) -> Worker:
    return make_worker(
        "hostile", ADTRACK_CONTROL_SECRET=SECRET, ADTRACK_BARRIER_TIMEOUT_S=str(BARRIER_TIMEOUT_S)
    ).start().wait_ready()


@pytest.fixture(scope="module")
def world(kafka: Kafka, hostile: Worker) -> World:
    return World(kafka)


@pytest.fixture(scope="module")
def ids(world: World) -> tuple[str, str, str]:
    return world.campaign()


def home(kafka: Kafka, cid: str) -> int:
    return home_partition(cid, kafka.settings.partitions)


def dead_letters(kafka: Kafka, seq: str, count: int = 1) -> list[ConsumedRecord]:
    return kafka.wait_for(kafka.settings.topic_dlq, lambda r: r.headers.get(SEQ) == seq.encode(), count=count)


def local_totals(worker: Worker) -> dict[str, int]:
    return call(worker.web_port, "GET", "/stats.json?local=1").json()["stats"]["total"]


def test_a_2_mb_record_is_dead_lettered_cut_to_fit_and_its_partition_goes_on(
    kafka: Kafka, world: World, ids, hostile: Worker
) -> None:
    cid = ids[0]
    event = orjson.dumps(factories.event(*ids, event_id=unique("ev")))
    value = event[:-1] + b', "pad": "' + b"x" * (TWO_MB - len(event) - 11) + b'"}'
    assert len(value) == TWO_MB
    meta = kafka.send(kafka.settings.topic_raw, value, key=cid, headers=[(SEQ, b"2mb")], partition=home(kafka, cid))
    after = world.send_event(ids)  # same key: the same partition, behind the 2 MB record

    assert world.outcome(after["event_id"], timeout=60)[0] == "accepted"
    [dead] = dead_letters(kafka, "2mb")
    h = dead.headers
    assert (h["dlq.reason"], h["dlq.topic"], h["dlq.partition"], h["dlq.offset"]) == (
        b"oversized", kafka.settings.topic_raw.encode(), str(meta.partition).encode(), str(meta.offset).encode()
    )
    assert h["dlq.truncated"] == b"value"
    assert h["dlq.original_size"] == str(TWO_MB).encode()
    assert h["dlq.original_sha256"] == hashlib.sha256(value).hexdigest().encode()
    assert dead.key == cid.encode() and value.startswith(dead.value) and len(dead.value) > TWO_MB // 2
    # The worker counts a batch once it lands (its outputs acknowledged, at its next turn of the loop):
    # the count can come just after the records are readable.
    totals = wait_until(lambda: (found := local_totals(hostile)).get("dlq:oversized") and found, 30,
                        "the worker to count the dead letter")
    assert totals["dlq:oversized"] == 1 and "dlq:error" not in totals  # counted once, as what it is


@pytest.mark.parametrize("kind", [b"stop", b"coredata-barrier-v2", b""])
def test_a_valid_event_with_a_forged_unknown_control_header_is_processed(world: World, ids, kind: bytes) -> None:
    event = world.send_event(ids, headers=[(control.CONTROL_HEADER, kind)])
    assert world.outcome(event["event_id"])[0] == "accepted"


@pytest.mark.parametrize(
    "signature",
    [None, control.sign(control.encode_barrier([("campaign", "x", 10**9)]), control.signing_key("")), b"0" * 64],
    ids=["unsigned", "development-secret", "garbage"],
)
def test_a_forged_barrier_is_dead_lettered_and_does_not_hold_its_partition(
    kafka: Kafka, world: World, ids, signature: bytes | None
) -> None:
    cid = ids[0]
    seq = unique("barrier")
    # Asks for a version that never comes: a genuine barrier like it would hold the partition 120 s.
    value = control.encode_barrier([("campaign", cid, 10**9)])
    headers = [(SEQ, seq.encode()), (control.CONTROL_HEADER, control.BARRIER)]
    if signature is not None:
        headers.append((control.SIGNATURE_HEADER, signature))
    kafka.send(kafka.settings.topic_raw, value, headers=headers, partition=home(kafka, cid))
    after = world.send_event(ids)

    assert world.outcome(after["event_id"], timeout=BARRIER_TIMEOUT_S / 4)[0] == "accepted"
    [dead] = dead_letters(kafka, seq)
    assert dead.headers["dlq.reason"] == b"control" and dead.value == value


def test_a_storm_of_poison_is_a_handful_of_warning_lines_that_name_no_content(
    kafka: Kafka, ids, hostile: Worker
) -> None:
    # Last in the module: it stops the worker to read its whole log.
    cid = ids[0]
    marker = unique("storm-marker")
    for n in range(200):
        kafka.send(kafka.settings.topic_raw, f'{{"event_id": "{marker}-{n}", '.encode(), key=cid,
                   headers=[(SEQ, b"storm")])
    dead_letters(kafka, "storm", count=200)
    hostile.stop()

    log = hostile.log().decode(errors="replace")
    lines = [line for line in log.splitlines() if "dead-lettered" in line and " as malformed" in line]
    assert 1 <= len(lines) <= 5, lines
    assert sum(int(re.search(r"dead-lettered (\d+) record", line)[1]) for line in lines) == 200
    assert all(re.search(r"e\.g\. [\w.]+\[\d+\]@\d+", line) for line in lines)
    assert marker not in log and "event_id=" not in log
